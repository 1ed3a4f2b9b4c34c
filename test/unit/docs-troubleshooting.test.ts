// docs/troubleshooting.md lists every AMBIT_ERR_* code the code defines, each with what it means
// and what to do; and it lists no code that does not exist.
import fs from 'node:fs';
import path from 'node:path';
import { AgentErrorCodes } from '../../agent/errors';
import { DnsErrorCodes } from '../../agent/dns/errors';
import { LocalErrorCodes } from '../../cli/local/errors';
import { EnrollmentErrorCodes } from '../../common/enrollment/errors';
import { ErrorCodes } from '../../common/errors';
import { HboneErrorCodes } from '../../common/hbone/errors';
import { IdentityErrorCodes } from '../../common/identity/identity-errors';
import { projectRoot } from '../../common/project-root';
import { SandboxErrorCodes } from '../../common/sandbox/errors';
import { TlsErrorCodes } from '../../common/tls/errors';
import { ControlPlaneErrorCodes } from '../../control-plane/errors';
import { WaypointErrorCodes } from '../../waypoint/errors';

const root = projectRoot();
/** Where codes are defined: the programs, the CLI, the addon, scripts and the test harness's own errors. */
const SOURCE_DIRS = ['agent', 'waypoint', 'control-plane', 'common', 'cli', 'native', 'scripts', 'test/harness'];
const SOURCE_FILE = /\.(ts|js|cc|cpp|h|c|sh)$/;
/** A code as a string literal: a definition or a use, never a mention in a comment ("AMBIT_ERR_DNS_*"). */
const CODE_LITERAL = /(['"`])(AMBIT_ERR_[A-Z0-9_]+)\1/g;

function sourceFiles(dir: string): string[] {
  const full = path.join(root, dir);
  if (!fs.existsSync(full)) return [];
  return fs.readdirSync(full, { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'generated' ? [] : sourceFiles(rel);
    return SOURCE_FILE.test(e.name) ? [rel] : [];
  });
}

function codesInSources(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of SOURCE_DIRS.flatMap(sourceFiles)) {
    for (const m of fs.readFileSync(path.join(root, file), 'utf8').matchAll(CODE_LITERAL)) if (!found.has(m[2])) found.set(m[2], file);
  }
  return found;
}

interface Entry {
  code: string;
  meaning: string;
  fix: string;
  line: number;
}

/** Table rows whose first cell is one code: | `AMBIT_ERR_X` | meaning | what to do |. */
function documentedEntries(markdown: string): Entry[] {
  const entries: Entry[] = [];
  markdown.split('\n').forEach((line, i) => {
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    const m = /^`(AMBIT_ERR_[A-Z0-9_]+)`$/.exec(cells[0] ?? '');
    if (m === null) return;
    entries.push({ code: m[1], meaning: cells[1] ?? '', fix: cells[cells.length - 1] ?? '', line: i + 1 });
  });
  return entries;
}

const doc = fs.readFileSync(path.join(root, 'docs', 'troubleshooting.md'), 'utf8');
const entries = documentedEntries(doc);
const defined = codesInSources();
const NO_FIX = /^(|—|-|–|n\/a)$/i;

describe('docs/troubleshooting.md', () => {
  it('finds the codes of every errors module in the sources (the scan itself works)', () => {
    const declared = [
      ErrorCodes, AgentErrorCodes, WaypointErrorCodes, ControlPlaneErrorCodes, LocalErrorCodes, EnrollmentErrorCodes,
      HboneErrorCodes, IdentityErrorCodes, TlsErrorCodes, DnsErrorCodes, SandboxErrorCodes,
    ].flatMap((o) => Object.values(o) as string[]);
    expect(declared.filter((c) => !defined.has(c))).toEqual([]);
    // Codes defined outside those modules (the test harness's) are found too.
    expect(defined.has('AMBIT_ERR_HARNESS_EXEC_TIMEOUT')).toBe(true);
  });

  it('has an entry with a meaning and a fix for every AMBIT_ERR_* code defined in the code', () => {
    const missing: string[] = [];
    for (const [code, file] of defined) {
      const usable = entries.filter((e) => e.code === code && !NO_FIX.test(e.meaning) && !NO_FIX.test(e.fix));
      if (usable.length === 0) {
        const rows = entries.filter((e) => e.code === code);
        missing.push(`${code} (defined in ${file})${rows.length > 0 ? `: line ${rows.map((r) => r.line).join(', ')} has no fix` : ': no entry'}`);
      }
    }
    if (missing.length > 0) {
      throw new Error(`docs/troubleshooting.md needs a row | \`CODE\` | meaning | what to do | for:\n  ${missing.join('\n  ')}`);
    }
  });

  it('documents no code that the code does not define', () => {
    expect([...new Set(entries.map((e) => e.code))].filter((c) => !defined.has(c))).toEqual([]);
  });
});
