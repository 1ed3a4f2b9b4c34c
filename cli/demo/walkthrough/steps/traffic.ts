// Step: the app works through the mesh. 100 requests from loadgen to productpage, each of which
// makes productpage call details and reviews (and v2/v3 of reviews call ratings): all through the
// agents and the waypoint, over mTLS.
import { formatTally, latency, pct, tally } from '../measure';
import { requestsFrom } from '../pod-requests';
import type { Step } from '../step';

export const trafficStep: Step = {
  title: 'Traffic through the mesh: loadgen -> productpage -> details, reviews -> ratings',
  async run({ mesh, progress, check, serviceUrl }) {
    const url = serviceUrl('productpage', '/');
    const outcomes = await requestsFrom(mesh, 'loadgen', url, 100, 4);
    const ok = outcomes.filter((o) => o.status === 200);
    progress.detail(`loadgen sent 100 GET ${url}: ${formatTally(tally(outcomes, (o) => o.status ?? o.error))}; ${latency(outcomes)}`);
    progress.detail(`productpage got details in ${ok.filter((o) => o.details).length} of ${ok.length} pages`);
    progress.detail(`reviews answered by: ${formatTally(tally(ok, (o) => o.reviews))} (round robin over v1, v2, v3)`);
    check(ok.length >= 95, `${ok.length} of 100 pages served (expected at least 95)`);
    check(new Set(ok.map((o) => o.reviews)).size === 3, 'all three reviews versions answered');
    return `${pct(ok.length, 100)} of 100 pages OK, ${latency(outcomes)}`;
  },
};
