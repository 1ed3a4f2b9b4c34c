/**
 * The CI contract, tested for real: scripts/run-tests.js runs jest tier by
 * tier and ends its output with `N passed, N failed[, N skipped]` built from
 * jest's results, exiting non-zero on any failure — and, under CI=true, a
 * skipped privileged test is a failure. Runs the real script and real jest
 * against a throwaway project of known outcomes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '..', '..');

function makeProject(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-runner-'));
  fs.mkdirSync(path.join(dir, 'scripts'));
  fs.copyFileSync(path.join(ROOT, 'scripts', 'run-tests.js'), path.join(dir, 'scripts', 'run-tests.js'));
  fs.copyFileSync(path.join(ROOT, 'jest.config.js'), path.join(dir, 'jest.config.js'));
  fs.copyFileSync(path.join(ROOT, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  // The privileged project's globalSetup must exist; here it does nothing.
  fs.mkdirSync(path.join(dir, 'test', 'harness'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'test', 'harness', 'global-setup.ts'), 'export default async function setup(): Promise<void> {}\n');
  for (const [name, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), body);
  }
  return dir;
}

function runTiers(dir: string, tiers: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['scripts/run-tests.js', '--tier', tiers], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, CI: '', ...env },
    timeout: 100_000,
  });
  const lines = `${r.stdout}`.trimEnd().split('\n');
  return { status: r.status, last: lines[lines.length - 1], out: r.stdout + r.stderr };
}

describe('scripts/run-tests.js', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('ends with the real counts and fails when a test fails', () => {
    const dir = makeProject({
      'test/unit/a.test.ts': "it('passes', () => expect(1).toBe(1));\nit('also passes', () => expect([1]).toHaveLength(1));\n",
      'test/unit/b.test.ts': "it('fails', () => expect(1).toBe(2));\nit.skip('is skipped', () => undefined);\n",
      'test/integration/c.test.ts': "it('passes', () => expect(true).toBe(true));\n",
    });
    dirs.push(dir);
    const r = runTiers(dir, 'unit,integration');
    expect(r.last).toBe('3 passed, 1 failed, 1 skipped');
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('unit: 2 passed, 1 failed, 1 skipped');
  });

  it('exits 0 when all pass, and counts a skipped privileged test as failed under CI', () => {
    const dir = makeProject({
      'test/unit/a.test.ts': "it('passes', () => expect(1).toBe(1));\n",
      'test/privileged/p.test.ts': "it('runs', () => expect(1).toBe(1));\nit.skip('was skipped', () => undefined);\n",
    });
    dirs.push(dir);
    const local = runTiers(dir, 'unit');
    expect(local).toMatchObject({ status: 0, last: '1 passed, 0 failed' });
    const ci = runTiers(dir, 'unit,privileged', { CI: 'true' });
    expect(ci.status).not.toBe(0);
    expect(ci.last).toMatch(/^2 passed, [1-9]\d* failed/);
  });

  it('counts a tier with no tests as a failure rather than green', () => {
    const dir = makeProject({ 'test/unit/a.test.ts': "it('passes', () => expect(1).toBe(1));\n" });
    dirs.push(dir);
    const r = runTiers(dir, 'unit,native');
    expect(r.status).not.toBe(0);
    expect(r.last).toMatch(/^1 passed, 1 failed/);
  });
});
