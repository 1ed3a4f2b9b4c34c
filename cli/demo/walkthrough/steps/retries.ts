// Step: an injected fault absorbed by retries. A bad release of ratings (v2, failing half its
// requests with 500) joins the Service; callers see the failures. Then an HTTPRoute with
// `retry: {attempts: 3, codes: [500]}` makes the waypoint retry them, and callers see none (a 503
// would not show: the waypoint retries 503 by default, as Istio does). The
// waypoint's own access log says how many requests it retried.
import { failures, formatTally, pct, tally } from '../measure';
import { requestsFrom, untilOutcome } from '../pod-requests';
import type { Step } from '../step';
import { WAYPOINT } from '../demo-mesh';

const REQUESTS = 300;

export const retriesStep: Step = {
  title: 'Fault absorbed by retries: a ratings release failing 50% with 500, then retries on',
  async run({ mesh, progress, check, serviceUrl }) {
    const url = serviceUrl('ratings', '/ratings');
    mesh.applyStep('ratings-v2-faulty.yaml');
    const t0 = Date.now();
    await untilOutcome(
      'ratings-v2 to join the Service',
      async () => requestsFrom(mesh, 'loadgen', url, 4, 1),
      (o) => o.some((x) => x.version === 'v2' || x.status === 500),
    );
    progress.detail(`applied ratings-v2-faulty.yaml: ratings-v2 (FAULT_PERCENT=50) took traffic after ${Date.now() - t0} ms`);
    const faulty = await requestsFrom(mesh, 'loadgen', url, REQUESTS, 4);
    const failedBefore = faulty.filter((o) => o.status !== 200).length;
    progress.detail(`without retries: ${REQUESTS} requests: ${formatTally(tally(faulty, (o) => o.status ?? o.error))} -> ${pct(failedBefore, REQUESTS)} failed`);

    mesh.applyStep('ratings-retries.yaml');
    const tookMs = await untilOutcome('the retry route to be in force', () => requestsFrom(mesh, 'loadgen', url, 1, 1), (o) => o[0]?.route === 'retries');
    const logFrom = mesh.containerLog(`${WAYPOINT}-0`, 'waypoint').length;
    const retried = await requestsFrom(mesh, 'loadgen', url, REQUESTS, 4);
    const ok = retried.filter((o) => o.status === 200).length;
    progress.detail(`applied ratings-retries.yaml (in force after ${tookMs} ms); ${REQUESTS} requests: ${formatTally(tally(retried, (o) => o.status ?? o.error))}`);
    // The waypoint logs one line per request with its upstream attempts (the loadgen's steady
    // productpage traffic is in the same log, so count only ratings requests).
    await new Promise((r) => setTimeout(r, 500));
    const lines = mesh
      .containerLog(`${WAYPOINT}-0`, 'waypoint')
      .slice(logFrom)
      .filter((l) => String(l.destination_service ?? l['dst.service'] ?? '').startsWith('ratings.') && typeof l.attempts === 'number');
    const absorbed = lines.filter((l) => Number(l.attempts) > 1).length;
    progress.detail(`the waypoint's access log: ${lines.length} ratings requests, ${absorbed} needed more than one attempt`);
    check(failedBefore >= REQUESTS * 0.05, `the fault showed without retries (${pct(failedBefore, REQUESTS)} failed)`);
    check(absorbed > 0, `the waypoint retried ${absorbed} of ${lines.length} ratings requests it logged`);
    check(ok >= REQUESTS * 0.99, `with retries ${pct(ok, REQUESTS)} succeeded (expected at least 99%; other answers: ${failures(retried, 200)})`);
    return `${pct(failedBefore, REQUESTS)} failed without retries, ${pct(REQUESTS - ok, REQUESTS)} with (${absorbed} retried)`;
  },
};
