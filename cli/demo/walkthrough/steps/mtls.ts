// Step: mTLS is on. The identities come from the agents' live connection tables
// (/debug/connections on each agent's admin port): every pod-to-pod connection is HBONE (mTLS) or
// a same-node hand-over (which never leaves the node, so it is not encrypted), with a SPIFFE
// identity on both ends.
import { Ports } from '../../../../common/ports';
import type { Step } from '../step';

interface LiveConnection {
  direction: string;
  transport: string;
  source: { workload?: string; identity?: string };
  destination: { workload?: string; identity?: string };
  service?: string;
}

const short = (identity: string | undefined): string => (identity ?? '(none)').replace(/^spiffe:\/\/[^/]+\//, '');

export const mtlsStep: Step = {
  title: 'mTLS on: identities from the agents\' live connection tables',
  async run({ mesh, progress, check }) {
    const pairs = new Map<string, number>();
    let total = 0;
    let plaintext = 0;
    let local = 0;
    for (const node of mesh.status().nodes) {
      const host = node.agent?.adminAddress;
      if (host === undefined) continue;
      const res = await fetch(`http://${host}:${Ports.admin}/debug/connections`);
      const { connections: conns } = (await res.json()) as { connections: LiveConnection[] };
      progress.detail(`${node.name}: ${conns.length} open connections in the agent's table`);
      for (const c of conns) {
        total++;
        if (c.transport === 'local') local++;
        else if (c.transport !== 'hbone') plaintext++;
        const key = `${short(c.source.identity)} -> ${short(c.destination.identity)} (${c.transport}, ${c.direction}, ${node.name})`;
        pairs.set(key, (pairs.get(key) ?? 0) + 1);
      }
    }
    for (const [pair, n] of [...pairs.entries()].sort()) progress.detail(`  ${n} × ${pair}`);
    const withIds = [...pairs.keys()].filter((k) => !k.includes('(none)')).length;
    check(total > 0, `${total} live connections seen`);
    check(withIds === pairs.size, `every connection has a SPIFFE identity at both ends (${withIds} of ${pairs.size} kinds)`);
    check(plaintext === 0, `${plaintext} connections outside HBONE and the same-node hand-over`);
    // A same-node hand-over never leaves the node, so it is not encrypted; it is still
    // authenticated and authorized with both identities, as an HBONE connection is.
    const kinds = local > 0 ? `${total - local} over HBONE (mTLS), ${local} handed over on the same node` : `all ${total} over HBONE (mTLS)`;
    return `${total} live connections, ${kinds}, identities at both ends`;
  },
};
