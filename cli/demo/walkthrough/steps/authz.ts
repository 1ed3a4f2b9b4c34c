// Step: an AuthorizationPolicy denies one caller. details is reached through the waypoint, so
// the policy targets the Service and the waypoint enforces it: loadgen is refused with 403
// "RBAC: access denied" while productpage, calling the same Service, is still served.
import { failures } from '../measure';
import { requestsFrom, untilOutcome } from '../pod-requests';
import type { Step } from '../step';

const FILE = 'deny-loadgen-to-details.yaml';

export const authzStep: Step = {
  title: 'AuthorizationPolicy: deny loadgen -> details, keep productpage -> details',
  async run({ mesh, progress, check, serviceUrl }) {
    const url = serviceUrl('details', '/details');
    const before = await requestsFrom(mesh, 'loadgen', url, 10, 2);
    progress.detail(`before: loadgen -> details: ${before.filter((o) => o.status === 200).length}/10 answered 200`);
    mesh.applyStep(FILE);
    progress.detail(`applied examples/walkthrough/steps/${FILE} (DENY source principal cluster.local/ns/demo/sa/bookinfo-loadgen)`);
    const tookMs = await untilOutcome('the policy to be in force', () => requestsFrom(mesh, 'loadgen', url, 1, 1), (o) => o[0]?.status === 403);
    progress.detail(`in force ${tookMs} ms after the file was written (control plane -> waypoint push)`);
    const denied = await requestsFrom(mesh, 'loadgen', url, 20, 2);
    const allowed = await requestsFrom(mesh, 'productpage-v1', url, 20, 2);
    const rbac = denied.filter((o) => o.status === 403 && (o.body ?? '').startsWith('RBAC: access denied')).length;
    const ok = allowed.filter((o) => o.status === 200).length;
    progress.detail(`loadgen -> details: ${rbac}/20 refused with 403 "RBAC: access denied"`);
    progress.detail(`productpage -> details: ${ok}/20 answered 200`);
    check(before.every((o) => o.status === 200), `before the policy loadgen was served (not served: ${failures(before, 200)})`);
    check(rbac === 20, `every loadgen request denied (other answers: ${failures(denied, 403)})`);
    check(ok === 20, `every productpage request served (other answers: ${failures(allowed, 200)})`);
    return `loadgen ${rbac}/20 denied (403), productpage ${ok}/20 served; in force after ${tookMs} ms`;
  },
};
