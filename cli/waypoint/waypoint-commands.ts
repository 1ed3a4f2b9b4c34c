// `ambit waypoint apply | list | delete`: manage waypoints of the target cluster (the local
// runtime, or Kubernetes with --kubeconfig). Flags follow istioctl's `waypoint` commands.
// `ambit waypoint` without a subcommand runs the waypoint proxy itself (cli/waypoint-command.ts).
import type { Argv, CommandModule } from 'yargs';
import { CliError, CliErrorCodes, runCli } from '../cluster/errors';
import { kubeWaypointScope, waypointProgrammedItems } from '../cluster/kube-live-checks';
import { KubeTarget } from '../cluster/kube-target';
import { bindingItems, podsGoneItems, waypointReadyItems } from '../cluster/live-checks';
import { localScope, waitUntilLive, type WaitItem } from '../cluster/live-wait';
import { LocalTarget } from '../cluster/local-target';
import { openTarget, targetOptions, type TargetArgs } from '../cluster/select-target';
import { isWaypoint, Labels, requireDnsLabel, requireNamespace, type ClusterTarget } from '../cluster/target';
import { renderWaypoints, waypointRows } from './waypoint-list-view';
import { refText, usersOf, waypointNamedBy, waypointPods, type WaypointRef } from './waypoint-usage';

const out = (line: string): void => void process.stdout.write(`${line}\n`);

export interface ApplyArgs extends TargetArgs {
  namespace: string;
  name: string;
  for: 'service' | 'workload' | 'all';
  'enroll-namespace': boolean;
  node?: string;
  timeout: number;
}

export interface DeleteArgs extends TargetArgs {
  namespace: string;
  name: string;
  timeout: number;
}

export interface ListArgs extends TargetArgs {
  namespace?: string;
  json: boolean;
}

/** Waits where the local runtime can tell that a change is live. */
async function waitLive(target: ClusterTarget, what: string, check: (t: LocalTarget) => Promise<WaitItem[]>, timeout: number): Promise<void> {
  if (target instanceof LocalTarget) await waitUntilLive(what, localScope(target), () => check(target), { timeoutMs: timeout * 1000, print: out });
}

/**
 * Waits until the waypoint is up: on the local runtime its pods are ready; on Kubernetes the
 * waypoint controller has programmed its Gateway and a pod of it is ready. Polling the API server
 * once a second is plenty for something that takes a pod start.
 */
async function waitWaypointUp(target: ClusterTarget, ref: WaypointRef, a: ApplyArgs): Promise<void> {
  const what = `waypoint ${refText(ref)} is ready`;
  if (target instanceof KubeTarget) {
    await waitUntilLive(what, kubeWaypointScope(ref, a['enroll-namespace']), () => waypointProgrammedItems(target, ref), {
      timeoutMs: a.timeout * 1000,
      print: out,
      everyMs: 1_000,
    });
  } else {
    await waitLive(target, what, (t) => waypointReadyItems(t, ref), a.timeout);
  }
}

export async function applyWaypoint(a: ApplyArgs): Promise<number> {
  requireDnsLabel('namespace', a.namespace);
  requireDnsLabel('waypoint name', a.name);
  const target = await openTarget(a);
  const ref: WaypointRef = { namespace: a.namespace, name: a.name };
  const ns = requireNamespace(await target.view(), a.namespace, target.description);
  out(`waypoint ${refText(ref)} (for ${a.for}): ${await target.createWaypoint({ name: a.name, namespace: a.namespace, for: a.for, ...(a.node ? { node: a.node } : {}) })}`);
  // Only once it is up bind traffic to it: a binding to a waypoint that is not up yet is refused
  // (fail closed), on Kubernetes as locally.
  await waitWaypointUp(target, ref, a);
  if (a['enroll-namespace']) {
    const done = await target.setNamespaceLabels(a.namespace, { [Labels.USE_WAYPOINT]: a.name, [Labels.USE_WAYPOINT_NAMESPACE]: null });
    out(`namespace ${a.namespace}: ${Labels.USE_WAYPOINT}=${a.name} (${done})`);
    await waitLive(target, `the agents send ${a.namespace}'s traffic through ${refText(ref)}`, (t) => bindingItems(t, a.namespace, ref), a.timeout);
    if (ns.labels[Labels.DATAPLANE_MODE] !== 'ambient') {
      out(`note: namespace ${a.namespace} is not in the mesh, so its own pods' traffic is not captured; \`ambit label ns ${a.namespace}\` puts it in`);
    }
  } else {
    out(`bind traffic to it with \`ambit waypoint apply ... --enroll-namespace\`, or label a namespace or Service ${Labels.USE_WAYPOINT}=${a.name}`);
  }
  return 0;
}

export async function deleteWaypoint(a: DeleteArgs): Promise<number> {
  requireDnsLabel('namespace', a.namespace);
  requireDnsLabel('waypoint name', a.name);
  const target = await openTarget(a);
  const ref: WaypointRef = { namespace: a.namespace, name: a.name };
  // Refuse before touching any label when the waypoint cannot be deleted here.
  if (target instanceof LocalTarget) await target.waypointFile(a.namespace, a.name);
  const view = await target.view();
  if (!view.gateways.some((g) => isWaypoint(g) && g.namespace === a.namespace && g.name === a.name)) {
    throw new CliError(CliErrorCodes.WAYPOINT_NOT_FOUND, `there is no waypoint ${refText(ref)}; \`ambit waypoint list\` shows the ones there are`);
  }
  // Unbind first, so traffic goes direct again before the waypoint goes (not refused in between).
  const same = (r: WaypointRef | undefined): boolean => r?.namespace === ref.namespace && r.name === ref.name;
  for (const ns of view.namespaces.filter((n) => same(waypointNamedBy({}, n.name, n.labels)))) {
    const done = await target.setNamespaceLabels(ns.name, { [Labels.USE_WAYPOINT]: null, [Labels.USE_WAYPOINT_NAMESPACE]: null });
    out(`namespace ${ns.name}: ${Labels.USE_WAYPOINT} removed (${done})`);
    await waitLive(target, `the agents stop sending ${ns.name}'s traffic through ${refText(ref)}`, (t) => bindingItems(t, ns.name, ref), a.timeout);
  }
  const others = usersOf(view, ref).filter((u) => !u.startsWith('ns:'));
  if (others.length > 0) {
    out(`note: ${others.join(', ')} still name it in ${Labels.USE_WAYPOINT}: their traffic is refused until you remove that label`);
  }
  const pods = waypointPods(view, ref).map((p) => p.name);
  out(`waypoint ${refText(ref)}: ${await target.deleteWaypoint(a.namespace, a.name)}`);
  await waitLive(target, `waypoint ${refText(ref)} is gone`, (t) => podsGoneItems(t, a.namespace, pods), a.timeout);
  return 0;
}

export async function listWaypoints(a: ListArgs): Promise<number> {
  const target = await openTarget(a);
  const rows = waypointRows(await target.view(), a.namespace);
  if (a.json) {
    out(JSON.stringify({ target: target.description, waypoints: rows }, null, 2));
    return 0;
  }
  if (rows.length === 0) {
    out(`no waypoints${a.namespace ? ` in ${a.namespace}` : ''} on ${target.description}; create one with \`ambit waypoint apply -n <namespace> --enroll-namespace\``);
    return 0;
  }
  for (const line of renderWaypoints(rows)) out(line);
  return 0;
}

const namespaceOption = { alias: 'n', type: 'string', default: 'default', describe: 'Namespace of the waypoint' } as const;
const timeoutOption = { type: 'number', default: 60, describe: 'Seconds to wait until the change is live (local runtime; on Kubernetes, apply waits until the waypoint is programmed and a pod of it is ready)' } as const;

export const waypointApplyCommand: CommandModule<object, ApplyArgs> = {
  command: 'apply',
  describe: 'Create a waypoint (Gateway of class ambit-waypoint, its Service and pod) and wait until it is ready',
  builder: (y) =>
    y
      .options({
        namespace: namespaceOption,
        name: { type: 'string', default: 'waypoint', describe: 'Name of the waypoint (its Gateway)' },
        for: { choices: ['service', 'workload', 'all'] as const, default: 'service' as const, describe: 'Traffic it takes: to Services, to pods (workloads), or both (istio.io/waypoint-for)' },
        'enroll-namespace': { type: 'boolean', default: false, describe: `Then send the namespace's traffic through it (${Labels.USE_WAYPOINT}=<name> on the namespace)` },
        node: { type: 'string', describe: 'Local runtime: run the waypoint pod on this node' },
        timeout: timeoutOption,
        ...targetOptions,
      })
      .example('$0 waypoint apply -n shop --enroll-namespace', "a waypoint for shop's services, and shop's traffic through it") as unknown as Argv<ApplyArgs>,
  handler: (a) => runCli('waypoint apply', () => applyWaypoint(a)),
};

export const waypointDeleteCommand: CommandModule<object, DeleteArgs> = {
  command: 'delete [name]',
  describe: 'Delete a waypoint; namespaces that send traffic through it stop doing so first',
  builder: (y) =>
    y
      .positional('name', { type: 'string', default: 'waypoint', describe: 'Name of the waypoint' })
      .options({ namespace: namespaceOption, timeout: timeoutOption, ...targetOptions }) as unknown as Argv<DeleteArgs>,
  handler: (a) => runCli('waypoint delete', () => deleteWaypoint(a)),
};

export const waypointListCommand: CommandModule<object, ListArgs> = {
  command: 'list',
  describe: 'List waypoints: readiness of their pods, address, and what sends traffic through them',
  builder: (y) =>
    y.options({
      namespace: { alias: 'n', type: 'string', describe: 'Only this namespace (default: all)' },
      json: { type: 'boolean', default: false, describe: 'JSON, for scripts' },
      ...targetOptions,
    }) as unknown as Argv<ListArgs>,
  handler: (a) => runCli('waypoint list', () => listWaypoints(a)),
};
