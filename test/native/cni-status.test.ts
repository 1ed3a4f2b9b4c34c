// ambit-cni STATUS (build/Release/ambit-cni): ready whenever its config is valid, with or without
// an agent. containerd asks STATUS of 1.1.0 conflists and a failure marks the node's network not
// ready — with no agent yet (after a reboot) the agent's own pod could then never get a network.
// ADD still fails closed per pod (test/privileged/cni-plugin.test.ts). No privileges needed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SeqpacketSocket } from '../../common/native/addon';

const PLUGIN = path.resolve(__dirname, '..', '..', 'build', 'Release', 'ambit-cni');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runStatus(conf: Record<string, unknown>): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(PLUGIN, [], { env: { PATH: '/usr/bin:/bin', CNI_COMMAND: 'STATUS', CNI_PATH: '/opt/cni/bin' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
    child.stdin.end(JSON.stringify(conf));
  });
}

let dir: string;
beforeAll(() => {
  if (!fs.existsSync(PLUGIN)) throw new Error(`${PLUGIN} is missing: build it with npm run build:native (or npm run setup)`);
});
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-cni-status-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const conf = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  cniVersion: '1.1.0',
  name: 'k8s-pod-network',
  type: 'ambit-cni',
  socketPath: path.join(dir, 'enrollment.sock'),
  recordDir: path.join(dir, 'records'),
  ...extra,
});

describe('ambit-cni STATUS', () => {
  test('regression: succeeds without an agent (no socket), so the node stays network-ready and the agent pod can start', async () => {
    const r = await runStatus(conf());
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  test('does not ask the agent: an agent that never answers hello does not hold it up', async () => {
    // The old STATUS waited for hello (up to 5 s) on every call the runtime made.
    const sock = path.join(dir, 'stuck.sock');
    const listener = SeqpacketSocket.listen(sock, { mode: 0o600 });
    const peers: SeqpacketSocket[] = [];
    listener.start({ connection: (peer) => peers.push(peer) });
    try {
      const r = await runStatus(conf({ socketPath: sock, timeoutMs: 10_000 }));
      expect(r).toMatchObject({ code: 0, stdout: '' });
      expect(r.ms).toBeLessThan(2_000);
      expect(peers).toEqual([]);
    } finally {
      for (const p of peers) p.close();
      listener.close();
    }
  });

  test('fails on a config it could not serve ADD with: unsupported cniVersion, a bad key, a relative socketPath', async () => {
    const old = await runStatus(conf({ cniVersion: '0.3.1' }));
    expect(old.code).toBe(1);
    expect(JSON.parse(old.stdout)).toMatchObject({ code: 1, msg: 'ambit-cni does not support CNI version 0.3.1' });
    const bad = await runStatus(conf({ timeoutMs: 'soon' }));
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ code: 7, msg: expect.stringContaining('timeoutMs') });
    const relative = await runStatus(conf({ socketPath: 'enrollment.sock' }));
    expect(JSON.parse(relative.stdout)).toMatchObject({ code: 7, msg: expect.stringContaining('socketPath') });
  });
});
