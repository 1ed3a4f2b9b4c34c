// docs/README.md indexes every doc, and the links of the docs this suite owns (the index,
// concepts, troubleshooting, the generated reference) lead to files and headings that exist.
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../common/project-root';

const docs = path.join(projectRoot(), 'docs');
const CHECKED = ['README.md', 'concepts.md', 'troubleshooting.md', 'reference/configuration.md', 'reference/resources.md'];

function markdownFiles(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const p = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) return markdownFiles(dir, p);
    return e.name.endsWith('.md') ? [p] : [];
  });
}

/** GitHub's heading ids: lowercase, punctuation dropped, spaces to '-', repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced) continue;
    const h = /^#{1,6}\s+(.*)$/.exec(line);
    if (h !== null) {
      const slug = h[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
      const n = seen.get(slug) ?? 0;
      seen.set(slug, n + 1);
      out.add(n === 0 ? slug : `${slug}-${n}`);
    }
    for (const m of line.matchAll(/<a id="([^"]+)"><\/a>/g)) out.add(m[1]);
  }
  return out;
}

/** Relative links [text](target) outside code spans and fences. */
function linksOf(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').flatMap((line) => {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced) return [];
    return [...line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/.test(t));
  });
}

describe('docs/', () => {
  it('README.md links every doc', () => {
    const index = fs.readFileSync(path.join(docs, 'README.md'), 'utf8');
    const linked = new Set(linksOf(index).map((t) => t.split('#')[0]));
    expect(markdownFiles(docs).filter((f) => f !== 'README.md' && !linked.has(f))).toEqual([]);
  });

  it.each(CHECKED)('%s has no dangling links', (file) => {
    const text = fs.readFileSync(path.join(docs, file), 'utf8');
    const broken: string[] = [];
    for (const target of linksOf(text)) {
      const [p, anchor] = target.split('#');
      const full = p === '' ? path.join(docs, file) : path.resolve(path.dirname(path.join(docs, file)), p);
      if (!fs.existsSync(full)) {
        broken.push(`${target}: no such file`);
      } else if (anchor !== undefined && full.endsWith('.md') && !anchorsOf(fs.readFileSync(full, 'utf8')).has(anchor)) {
        broken.push(`${target}: no such heading`);
      }
    }
    expect(broken).toEqual([]);
  });
});
