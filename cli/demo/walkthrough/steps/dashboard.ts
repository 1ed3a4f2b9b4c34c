// Step: the control plane's live dashboard. Reads the same document the page draws
// (/dashboard/api/graph: the service graph from the agents' and the waypoint's metrics, the
// proxies' health) and prints the live edges and proxies, with the URL to open.
import type { GraphDocument } from '../../../../control-plane/dashboard/graph-document';
import type { Step } from '../step';

const CALLS: ReadonlyArray<[string, string]> = [
  ['loadgen', 'productpage'],
  ['productpage', 'details'],
  ['productpage', 'reviews'],
  ['reviews', 'ratings'],
];

const rate = (n: number): string => (n >= 10 ? n.toFixed(0) : n.toFixed(1));

export const dashboardStep: Step = {
  title: 'Dashboard: the live service graph the control plane serves',
  async run({ mesh, progress, check }) {
    const base = mesh.controlPlaneUrl();
    if (base === undefined) throw new Error('the control plane is not running');
    const api = `${base}/dashboard/api/graph`;
    // The first request starts the scraper; rates need two scrapes of every proxy.
    const deadline = Date.now() + 30_000;
    let doc: GraphDocument;
    for (;;) {
      doc = (await (await fetch(api)).json()) as GraphDocument;
      const live = doc.edges.filter((e) => e.rps > 0).length;
      if ((live >= CALLS.length && doc.scrape.healthy === doc.scrape.targets) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const name = new Map(doc.nodes.map((n) => [n.id, n.kind === 'service' ? `svc ${n.name}` : n.name]));
    progress.detail(`${base}/dashboard — ${doc.edges.length} edges, ${doc.scrape.healthy}/${doc.scrape.targets} proxies scraped every ${doc.scrape.intervalMs / 1000} s`);
    // The L7 edges tell the app's story; the L4 ones are mostly readiness probes (from outside
    // the mesh) and the waypoint's own hops, so they are counted, not listed.
    const l4 = doc.edges.filter((e) => e.protocol !== 'http').length;
    for (const e of doc.edges.filter((x) => x.protocol === 'http').sort((a, b) => b.rps - a.rps)) {
      const err = e.errorRate === null ? '-' : `${(e.errorRate * 100).toFixed(1)}%`;
      const p99 = e.p99Ms === null ? 'n/a' : `${e.p99Ms.toFixed(0)} ms`;
      progress.detail(`  ${name.get(e.from) ?? e.from} -> ${name.get(e.to) ?? e.to} (${e.protocol}): ${rate(e.rps)} rps · ${err} err · p99 ${p99}`);
    }
    if (l4 > 0) progress.detail(`  and ${l4} L4 (TCP) edges: readiness probes from outside the mesh, connections seen by the agents`);
    for (const p of doc.proxies) progress.detail(`  ${p.kind} ${p.name}: ${p.status}${p.detail ? ` (${p.detail})` : ''}`);
    const edgeOf = (from: string, to: string) =>
      doc.edges.find((e) => e.rps > 0 && doc.nodes.some((n) => n.id === e.from && n.name.startsWith(from)) && doc.nodes.some((n) => n.id === e.to && n.name.startsWith(to)));
    const seen = CALLS.filter(([from, to]) => edgeOf(from, to) !== undefined);
    check(seen.length === CALLS.length, `live edges for ${seen.map(([f, t]) => `${f} -> ${t}`).join(', ') || 'none'} (expected all of ${CALLS.length})`);
    check(doc.proxies.length >= 3 && doc.proxies.every((p) => p.status === 'healthy'), `${doc.proxies.filter((p) => p.status === 'healthy').length} of ${doc.proxies.length} proxies healthy (2 agents and the waypoint)`);
    return `${doc.edges.filter((e) => e.rps > 0).length} live edges, ${doc.scrape.healthy}/${doc.scrape.targets} proxies healthy`;
  },
};
