// The local runtime's PodRunner enrolling and unenrolling a running pod (its namespace's label
// changed), against a stand-in agent link: what `enrolled` says must be what the agent acked,
// since the runtime's reconcile retries only where `enrolled` differs from what the labels want.
import type { SandboxCluster, SandboxNode, SandboxPod } from '../../common/sandbox';
import { createLogger } from '../../common/log';
import { PodRunner } from '../../cli/local/pod-runner';

const NODE = { name: 'node1', gatewayV4: '198.18.1.1' } as unknown as SandboxNode;
const SANDBOX = { name: 'shop_web', netnsName: 'ambit-shop_web', cgroupPath: '/sys/fs/cgroup/x', ipv4: '198.18.1.10', ipv6: 'fd00::10' } as unknown as SandboxPod;

function runner(): PodRunner {
  const cluster = { addPod: async () => SANDBOX, removePod: async () => undefined } as unknown as SandboxCluster;
  return new PodRunner({
    pod: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop' }, spec: { containers: [] } },
    node: NODE,
    cluster,
    workDir: '/nonexistent',
    logDir: '/nonexistent',
    nodeNetnsFd: -1,
    services: () => [],
    onChange: () => undefined,
    logger: createLogger('test', { level: 'silent' }),
  });
}

describe('PodRunner: enrollment of a running pod follows what the agent acked', () => {
  it('regression: a failed unenroll leaves the pod enrolled, so the next reconcile retries it', async () => {
    const r = runner();
    await r.start();
    const calls: string[] = [];
    let failNext = true;
    const mesh = {
      enroll: async () => void calls.push('enroll'),
      unenroll: async () => {
        calls.push('unenroll');
        if (failNext) {
          failNext = false;
          throw new Error('the agent restarted');
        }
      },
    };
    await r.enrollRunning(mesh);
    expect(r.enrolled).toBe(true);

    await expect(r.unenrollRunning()).rejects.toThrow('the agent restarted');
    expect(r.enrolled).toBe(true); // still captured as far as anyone knows: retried

    await r.unenrollRunning();
    expect(r.enrolled).toBe(false);
    expect(calls).toEqual(['enroll', 'unenroll', 'unenroll']);
    await r.unenrollRunning(); // nothing left to do
    expect(calls).toHaveLength(3);
  });

  it('a failed enroll leaves the pod unenrolled (retried likewise)', async () => {
    const r = runner();
    await r.start();
    let fail = true;
    const mesh = {
      enroll: async () => {
        if (fail) throw new Error('no agent');
      },
      unenroll: async () => undefined,
    };
    await expect(r.enrollRunning(mesh)).rejects.toThrow('no agent');
    expect(r.enrolled).toBe(false);
    fail = false;
    await r.enrollRunning(mesh);
    expect(r.enrolled).toBe(true);
  });
});
