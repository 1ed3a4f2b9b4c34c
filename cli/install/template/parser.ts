/**
 * Builds the tree of a template from its lexed items: if / else if / else, range, with, define,
 * template, and pipelines with variables. Anything else Go's text/template knows (block, break,
 * continue, else with, ...) is refused with file:line, so a chart never renders differently here
 * than under Helm without saying so.
 */
import { templateError, type SourcePos } from '../errors';
import type { Command, Node, Operand, ParsedTemplate, Pipeline } from './ast';
import { lex, type Token } from './lexer';

const UNSUPPORTED_KEYWORDS = new Set(['block', 'break', 'continue']);

interface Frame {
  node: Extract<Node, { kind: 'if' | 'with' | 'range' }> | { kind: 'define'; name: string; body: Node[]; pos: SourcePos };
  /** Nodes go here: the body, or the else branch once `else` was seen. */
  target: Node[];
  inElse: boolean;
  /** Opened by `else if`: closed by the same `end` as the `if` it continues. */
  chained: boolean;
}

export function parseTemplate(src: string, file: string): ParsedTemplate {
  const root: Node[] = [];
  const defines = new Map<string, Node[]>();
  const stack: Frame[] = [];
  const out = (): Node[] => (stack.length ? stack[stack.length - 1].target : root);

  for (const item of lex(src, file)) {
    if (item.kind === 'text') {
      out().push({ kind: 'text', text: item.text, pos: item.pos });
      continue;
    }
    const t = item.tokens;
    if (t.length === 0) throw templateError(item.pos, 'missing value for command');
    const head = t[0].kind === 'ident' ? t[0].value : '';
    const rest = t.slice(1);
    if (UNSUPPORTED_KEYWORDS.has(head)) throw templateError(item.pos, `"${head}" is not supported by ambit's chart renderer`);
    if (head === 'if' || head === 'with' || head === 'range') {
      const node: Extract<Node, { kind: 'if' | 'with' | 'range' }> = {
        kind: head,
        pipe: parsePipeline(rest, item.pos, head === 'range' ? 2 : 1),
        body: [],
        elseBody: null,
        pos: item.pos,
      };
      out().push(node);
      stack.push({ node, target: node.body, inElse: false, chained: false });
    } else if (head === 'else') {
      const frame = stack[stack.length - 1];
      if (frame === undefined || frame.node.kind === 'define') throw templateError(item.pos, 'unexpected {{else}}');
      if (frame.inElse) throw templateError(item.pos, `{{else}} after {{else}} in the ${frame.node.kind} opened at line ${frame.node.pos.line}`);
      frame.inElse = true;
      frame.node.elseBody = [];
      frame.target = frame.node.elseBody;
      if (rest.length > 0) {
        if (!(rest[0].kind === 'ident' && rest[0].value === 'if')) {
          throw templateError(item.pos, `"else ${rest[0].kind === 'ident' ? rest[0].value : '...'}" is not supported by ambit's chart renderer (only "else if")`);
        }
        const node = { kind: 'if' as const, pipe: parsePipeline(rest.slice(1), item.pos, 1), body: [] as Node[], elseBody: null, pos: item.pos };
        frame.target.push(node);
        stack.push({ node, target: node.body, inElse: false, chained: true });
      }
    } else if (head === 'end') {
      if (rest.length) throw templateError(item.pos, 'unexpected tokens after "end"');
      let frame = stack.pop();
      if (frame === undefined) throw templateError(item.pos, 'unexpected {{end}}');
      while (frame.chained) frame = stack.pop()!;
      if (frame.node.kind === 'define') defines.set(frame.node.name, frame.node.body);
    } else if (head === 'define') {
      if (stack.length) throw templateError(item.pos, '{{define}} must be at the top level of a file');
      if (rest.length !== 1 || rest[0].kind !== 'string') throw templateError(item.pos, '{{define}} takes one quoted name');
      if (defines.has(rest[0].value)) throw templateError(item.pos, `template "${rest[0].value}" defined twice in ${file}`);
      const node = { kind: 'define' as const, name: rest[0].value, body: [] as Node[], pos: item.pos };
      stack.push({ node, target: node.body, inElse: false, chained: false });
    } else if (head === 'template') {
      if (rest.length === 0 || rest[0].kind !== 'string') throw templateError(item.pos, '{{template}} takes a quoted name');
      out().push({ kind: 'template', name: rest[0].value, pipe: rest.length > 1 ? parsePipeline(rest.slice(1), item.pos, 0) : null, pos: item.pos });
    } else {
      out().push({ kind: 'action', pipe: parsePipeline(t, item.pos, 1), pos: item.pos });
    }
  }
  if (stack.length) {
    const open = stack[stack.length - 1].node;
    throw templateError(open.pos, `{{${open.kind}}} has no matching {{end}}`);
  }
  return { file, body: root, defines };
}

/** A pipeline, with up to `maxVars` leading variables (`$v :=`, or `$i, $v :=` in range). */
function parsePipeline(tokens: Token[], pos: SourcePos, maxVars: number): Pipeline {
  let vars: string[] = [];
  let assign = false;
  let start = 0;
  const isPunct = (k: number, v: string) => tokens[k]?.kind === 'punct' && (tokens[k] as { value: string }).value === v;
  const plainVar = (k: number) => tokens[k]?.kind === 'var' && (tokens[k] as { path: string[] }).path.length === 0;
  if (plainVar(0) && (isPunct(1, ':=') || isPunct(1, '='))) {
    vars = [(tokens[0] as { name: string }).name];
    assign = isPunct(1, '=');
    start = 2;
  } else if (plainVar(0) && isPunct(1, ',') && plainVar(2) && isPunct(3, ':=')) {
    vars = [(tokens[0] as { name: string }).name, (tokens[2] as { name: string }).name];
    start = 4;
  }
  if (vars.length > maxVars) throw templateError(pos, maxVars === 0 ? 'variables are not allowed here' : `too many declarations (at most ${maxVars})`);
  if (vars.includes('$')) throw templateError(pos, 'cannot assign to $');
  const body = tokens.slice(start);
  if (body.length === 0) throw templateError(pos, 'missing value for command');
  return { vars, assign, cmds: parseCommands(body, pos), pos };
}

function parseCommands(tokens: Token[], pos: SourcePos): Command[] {
  const cmds: Command[] = [];
  let args: Operand[] = [];
  let i = 0;
  const finish = () => {
    if (args.length === 0) throw templateError(pos, 'missing command in pipeline');
    cmds.push({ args, pos: args[0].pos });
    args = [];
  };
  while (i < tokens.length) {
    const t = tokens[i];
    if (t.kind === 'punct' && t.value === '|') {
      finish();
      i++;
      continue;
    }
    const { operand, next } = parseOperand(tokens, i, pos);
    args.push(operand);
    i = next;
  }
  finish();
  return cmds;
}

function parseOperand(tokens: Token[], i: number, pos: SourcePos): { operand: Operand; next: number } {
  const t = tokens[i];
  switch (t.kind) {
    case 'string':
    case 'number':
      return { operand: { kind: 'literal', value: t.value, pos: t.pos }, next: i + 1 };
    case 'field':
      if (t.adjacent) throw templateError(t.pos, `unexpected field .${t.path.join('.')} (fields of a function result need parentheses)`);
      return { operand: { kind: 'dot', fields: t.path, pos: t.pos }, next: i + 1 };
    case 'var':
      return { operand: { kind: 'var', name: t.name, fields: t.path, pos: t.pos }, next: i + 1 };
    case 'ident':
      if (t.value === 'true' || t.value === 'false') return { operand: { kind: 'literal', value: t.value === 'true', pos: t.pos }, next: i + 1 };
      if (t.value === 'nil') return { operand: { kind: 'literal', value: null, pos: t.pos }, next: i + 1 };
      if (['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block'].includes(t.value)) {
        throw templateError(t.pos, `unexpected keyword "${t.value}" inside a pipeline`);
      }
      return { operand: { kind: 'func', name: t.value, pos: t.pos }, next: i + 1 };
    case 'punct': {
      if (t.value !== '(') throw templateError(t.pos, `unexpected "${t.value}"`);
      let depth = 0;
      let j = i;
      for (; j < tokens.length; j++) {
        const u = tokens[j];
        if (u.kind === 'punct' && u.value === '(') depth++;
        if (u.kind === 'punct' && u.value === ')' && --depth === 0) break;
      }
      if (j >= tokens.length) throw templateError(t.pos, 'unclosed left paren');
      const inner = parsePipeline(tokens.slice(i + 1, j), t.pos, 1);
      const after = tokens[j + 1];
      if (after?.kind === 'field' && after.adjacent) {
        return { operand: { kind: 'pipe', pipe: inner, fields: after.path, pos: t.pos }, next: j + 2 };
      }
      return { operand: { kind: 'pipe', pipe: inner, fields: [], pos: t.pos }, next: j + 1 };
    }
  }
  throw templateError(pos, 'unexpected token');
}
