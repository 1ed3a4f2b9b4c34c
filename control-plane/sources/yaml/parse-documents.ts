/**
 * A YAML file as a list of documents that remember where they came from: each document's plain JS
 * value plus a way to find the line of any field path in it, so problems point at the offending
 * line. Syntax errors are reported per document with their own line.
 */
import { LineCounter, isMap, isPair, isScalar, isSeq, parseAllDocuments, type Node as YamlNode } from 'yaml';

export interface YamlSyntaxError {
  /** 1-based document index. */
  document: number;
  line?: number;
  message: string;
}

export interface YamlDocument {
  /** 1-based index in the file, counting every document (including empty ones). */
  index: number;
  /** First line of the document's content. */
  line?: number;
  /** The document as plain JSON-like data; null for an empty document. */
  value: unknown;
  /** Line of the deepest node on `path` that exists (a missing field maps to its parent's line). */
  lineOf(path: readonly string[]): number | undefined;
}

export interface ParsedYaml {
  documents: YamlDocument[];
  syntaxErrors: YamlSyntaxError[];
}

/** Aliases may repeat structures; cap them so a "billion laughs" file cannot exhaust memory. */
const MAX_ALIAS_COUNT = 100;

function locate(root: YamlNode | null, path: readonly string[], lineAt: (offset: number) => number): number | undefined {
  const lineOfNode = (n: unknown): number | undefined => {
    const range = (n as { range?: [number, number, number] } | null)?.range;
    return range === undefined ? undefined : lineAt(range[0]);
  };
  let node: unknown = root;
  let line = lineOfNode(root);
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === segment);
      if (pair === undefined) break;
      // The key's line: for an unknown or invalid field that is the line the operator must edit.
      line = lineOfNode(pair.key) ?? line;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = /^[0-9]+$/.test(segment) ? node.items[Number(segment)] : undefined;
      if (item === undefined) break;
      line = lineOfNode(item) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}

/** "Map keys must be unique at line 9, column 11:\n\n<excerpt>" -> "Map keys must be unique". */
const shortMessage = (message: string): string => message.replace(/ at line \d+, column \d+:[\s\S]*$/, '').trim();

export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const lineAt = (offset: number): number => lineCounter.linePos(offset).line;
  const documents: YamlDocument[] = [];
  const syntaxErrors: YamlSyntaxError[] = [];
  Array.from(parseAllDocuments(text, { lineCounter })).forEach((doc, i) => {
    const index = i + 1;
    const root = doc.contents as YamlNode | null;
    for (const e of doc.errors) {
      syntaxErrors.push({ document: index, line: e.linePos?.[0].line, message: `${shortMessage(e.message)} (${e.code})` });
    }
    if (doc.errors.length > 0) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      const line = root?.range ? lineAt(root.range[0]) : undefined;
      syntaxErrors.push({ document: index, line, message: (e as Error).message });
      return;
    }
    documents.push({
      index,
      line: root?.range ? lineAt(root.range[0]) : undefined,
      value,
      lineOf: (path) => locate(root, path, lineAt),
    });
  });
  return { documents, syntaxErrors };
}
