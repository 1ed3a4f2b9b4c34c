/**
 * The README's main job (issue 6): `ambit demo` runs the whole walkthrough unattended — a real
 * local mesh (control plane, two agents, a waypoint, bookinfo-lite and a client in ambient pods),
 * then mTLS, an AuthorizationPolicy, a canary and retries, each measured — and exits 0 with a
 * summary; Ctrl-C in the middle tears everything down. Both runs use their own state directory
 * and kernel-chosen control-plane ports; afterAll removes whatever a failed run left.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { statePaths } from '../../cli/local/state-dir';
import { readRuntimeRecord, teardownRuntime } from '../../cli/local/teardown';
import { listLeftovers } from '../../common/sandbox';
import { ambit, AMBIT_CLI, ANY_PORTS, requirePrivileged, TS_REGISTER } from '../harness';

jest.setTimeout(300_000);

const note = (line: string): void => void process.stderr.write(`[demo-walkthrough] ${line}\n`);

describe('ambit demo: the local mesh walkthrough', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-demo-test-'));

  beforeAll(() => requirePrivileged());

  afterAll(async () => {
    for (const dir of ['run', 'interrupted']) {
      const paths = statePaths(path.join(tmp, dir));
      if (readRuntimeRecord(paths) !== undefined) await teardownRuntime(paths, { print: () => {} });
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  it('runs unattended, measures every step and exits 0 with a summary; nothing is left behind', async () => {
    const stateDir = path.join(tmp, 'run');
    const r = await ambit(['demo', '--state-dir', stateDir, ...ANY_PORTS], 240_000);
    const summary = r.stdout.slice(r.stdout.indexOf('Summary'));
    note(summary.trim());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('✓ walkthrough passed');
    for (const step of ['Mesh up', 'Traffic through the mesh', 'mTLS on', 'AuthorizationPolicy', 'HTTPRoute canary', 'Fault absorbed by retries', 'Dashboard']) {
      expect(summary).toMatch(new RegExp(`✓ ${step}`));
    }
    expect(summary).not.toContain('✗');
    // Figures are measured, so they vary run to run; their shape does not.
    expect(summary).toMatch(/loadgen 20\/20 denied \(403\), productpage 20\/20 served/);
    expect(summary).toMatch(/90-10: v1 \d+\.\d% \/ v2 \d+\.\d%; 50-50: v1 \d+\.\d% \/ v2 \d+\.\d%/);
    expect(r.stdout).toMatch(/left behind: 0 netns, 0 cgroups, 0 bpffs pins/);
    expect(fs.existsSync(statePaths(stateDir).runtime)).toBe(false);
  });

  it('Ctrl-C in the middle tears everything down and exits 130', async () => {
    const stateDir = path.join(tmp, 'interrupted');
    const child = spawn(process.execPath, ['-r', TS_REGISTER, AMBIT_CLI, 'demo', '--state-dir', stateDir, ...ANY_PORTS], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.resume();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Interrupt once the mesh is up and the walkthrough is under way (step 2 started).
    const deadline = Date.now() + 180_000;
    while (!stdout.includes('[2/') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(stdout).toContain('[2/');
    const prefix = readRuntimeRecord(statePaths(stateDir))?.prefix;
    expect(prefix).toBeDefined();
    child.kill('SIGINT');
    const code = await exited;
    expect(code).toBe(130);
    expect(stdout).toContain('SIGINT: tearing the mesh down');
    expect(readRuntimeRecord(statePaths(stateDir))).toBeUndefined();
    expect(listLeftovers(prefix!)).toEqual({ netns: [], cgroups: [], pins: [] });
  });
});
