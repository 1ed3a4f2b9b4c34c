// Step: an HTTPRoute canary for reviews, 90/10 then 50/50 between v1 and v2 (v3 out), measured
// over 400 requests each. The routes tag their answers with x-route, so the walkthrough knows
// exactly when the waypoint has the new split.
import { formatTally, pct, tally } from '../measure';
import { requestsFrom, untilOutcome } from '../pod-requests';
import type { Step, StepContext } from '../step';

const REQUESTS = 400;

async function split(ctx: StepContext, file: string, tag: string, v1Share: number): Promise<string> {
  const { mesh, progress, check, serviceUrl } = ctx;
  const url = serviceUrl('reviews', '/reviews');
  mesh.applyStep(file, 'reviews-canary.yaml');
  const tookMs = await untilOutcome(`the ${tag} route to be in force`, () => requestsFrom(mesh, 'loadgen', url, 1, 1), (o) => o[0]?.route === tag);
  const outcomes = await requestsFrom(mesh, 'loadgen', url, REQUESTS, 4);
  const versions = tally(outcomes, (o) => (o.status === 200 ? o.version : `status ${o.status ?? o.error}`));
  const count = (v: string): number => versions.find(([k]) => k === v)?.[1] ?? 0;
  progress.detail(`${tag}: applied ${file} (in force after ${tookMs} ms); ${REQUESTS} requests: ${formatTally(versions)}`);
  // Four standard deviations of the configured split over REQUESTS draws: a miss is not chance.
  const tolerance = 4 * Math.sqrt((v1Share * (1 - v1Share)) / REQUESTS);
  const share = count('v1') / REQUESTS;
  check(
    Math.abs(share - v1Share) <= tolerance,
    `v1 got ${pct(count('v1'), REQUESTS)} (configured ${v1Share * 100}% ± ${(tolerance * 100).toFixed(1)} points)`,
  );
  check(count('v3') === 0, `v3 got ${count('v3')} requests (configured 0)`);
  check(count('v1') + count('v2') === REQUESTS, `every request answered by v1 or v2`);
  return `${tag}: v1 ${pct(count('v1'), REQUESTS)} / v2 ${pct(count('v2'), REQUESTS)}`;
}

export const canaryStep: Step = {
  title: 'HTTPRoute canary: reviews 90/10 (v1/v2), then 50/50',
  async run(ctx) {
    const before = await requestsFrom(ctx.mesh, 'loadgen', ctx.serviceUrl('reviews', '/reviews'), 30, 3);
    ctx.progress.detail(`before any route: ${formatTally(tally(before, (o) => o.version))} of 30 (round robin)`);
    const first = await split(ctx, 'reviews-canary-90-10.yaml', '90-10', 0.9);
    const second = await split(ctx, 'reviews-canary-50-50.yaml', '50-50', 0.5);
    return `${first}; ${second}`;
  },
};
