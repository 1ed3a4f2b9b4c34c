/**
 * The few Markdown pieces the reference is made of: tables whose cells cannot break the table,
 * explicit anchors (stable across Markdown renderers, unlike heading slugs) and inline code.
 */

/** One table cell: no line breaks, `|` escaped. */
export function cell(text: string): string {
  return text.replace(/\r?\n+/g, ' ').replace(/\|/g, '\\|').trim();
}

/** Plain text that Markdown must not interpret (`*` wildcards, `<placeholders>`, `_` in names). */
export function text(plain: string): string {
  return plain.replace(/[\\`*_[\]]/g, (c) => `\\${c}`).replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `code`, with a longer fence when the text itself holds backticks. */
export function code(text: string): string {
  if (!text.includes('`')) return `\`${text}\``;
  const fence = text.includes('``') ? '```' : '``';
  return `${fence} ${text} ${fence}`;
}

export function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** An anchor id: lowercase letters, digits and '-'. */
export function anchorId(...parts: string[]): string {
  return parts
    .join('-')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** A heading preceded by an explicit anchor, so links survive any renderer's slug rules. */
export function heading(level: number, id: string, text: string): string {
  return `<a id="${id}"></a>\n\n${'#'.repeat(level)} ${text}`;
}

export const link = (text: string, id: string, file = ''): string => `[${text}](${file}#${id})`;
