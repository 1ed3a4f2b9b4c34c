/**
 * `ambit demo`: the capture demonstration (the full local mesh walkthrough
 * grows out of it in later issues). Two pods on one simulated node, a plain
 * Node client in pod a connecting to an app in pod b — captured by eBPF on
 * the way out and on the way in, the original destination recovered and
 * printed, the connection completed through the demo forwarder. Everything
 * printed is measured; everything created is removed, also on Ctrl-C.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CaptureDatapath } from '../../agent/capture/capture-programs';
import { openInPodListeners } from '../../agent/capture/in-pod-listeners';
import { withNetns } from '../../common/net/netns-dial';
import { PodEnrollments } from '../../agent/capture/pod-enrollment';
import { BpfOrigDstLookup } from '../../agent/capture/orig-dst';
import { bpfObjectPath, projectRoot } from '../../common/native/addon';
import { findCgroup2Mount } from '../../common/cgroup2';
import { createMesh, defer, listLeftovers, requirePrivileged, waitForLine, type Mesh, type Pod } from '../../test/harness';
import { ruleLines } from '../../test/privileged/net-probes';
import { serveInbound, serveOutbound, type ForwardEvent } from './demo-forwarder';
import { Progress } from './progress';

// Plain JS fixtures are not compiled into dist/: resolve them from the repository.
const FIXTURES = path.join(projectRoot(), 'test', 'fixtures');
const APP_PORT = 8080;

interface ClientResult {
  ok: boolean;
  reply: string | null;
  error: string | null;
  localAddress: string | null;
  remoteAddress: string | null;
  remotePort: number | null;
}

async function runClient(pod: Pod, host: string, message: string): Promise<ClientResult & { ms: number }> {
  const t0 = performance.now();
  const r = await pod.execNode(path.join(FIXTURES, 'tcp-client.js'), ['--host', host, '--port', String(APP_PORT), '--message', message], {
    timeoutMs: 15_000,
  });
  const ms = performance.now() - t0;
  return { ...(JSON.parse(r.stdout.trim().split('\n').pop() || '{}') as ClientResult), ms };
}

export async function runCaptureDemo(): Promise<number> {
  const p = new Progress(8);
  let mesh: Mesh | undefined;
  let dp: CaptureDatapath | undefined;
  const servers: net.Server[] = [];
  const events: ForwardEvent[] = [];
  const teardown = async () => {
    for (const s of servers) s.close();
    dp?.close();
    dp = undefined;
    await mesh?.destroy();
  };
  defer('capture demo', teardown);
  try {
    p.step('Checking this machine');
    requirePrivileged();
    p.detail(`root, BTF at /sys/kernel/btf/vmlinux, cgroup v2 at ${findCgroup2Mount()}`);
    const rulesBefore = ruleLines();
    p.detail(`iptables/nftables rules on the host before: ${rulesBefore.length}`);

    p.step('Creating a node with two pods (each a network namespace + a cgroup)');
    mesh = await createMesh({ nodes: 1 });
    const node = mesh.nodes[0];
    const a = await node.addPod('a');
    const b = await node.addPod('b');
    for (const pod of [a, b]) p.detail(`pod ${pod.name}  ${pod.ipv4.padEnd(13)} ${pod.ipv6.padEnd(18)} cgroup ${pod.cgroupPath}`);

    p.step(`Loading eBPF (${path.relative(process.cwd(), bpfObjectPath())}) and attaching at ${node.cgroupPath}`);
    const t0 = performance.now();
    dp = await CaptureDatapath.load({ cgroupRoot: node.cgroupPath, pinDir: path.join(mesh.pinDir, node.name) });
    p.detail(`verified and attached in ${(performance.now() - t0).toFixed(0)} ms: connect4, connect6, sockops, bind4, bind6 on the cgroup; sk_msg verdict on the listeners sockmap`);
    p.detail(`maps and links pinned under ${path.join(mesh.pinDir, node.name)}: ${fs.readdirSync(path.join(mesh.pinDir, node.name)).length} pins`);

    p.step('Enrolling both pods: in-pod listeners through the addon, then sk_lookup on each netns');
    const enrollments = new PodEnrollments(dp);
    const origDst = new BpfOrigDstLookup(dp.maps.origDst);
    const onEvent = (e: ForwardEvent) => events.push(e);
    for (const pod of [a, b]) {
      const fds = await withNetns(pod.netnsPath, (fd) => openInPodListeners(fd, { ipv6: true }));
      servers.push(serveOutbound(fds.outbound4, pod, origDst, onEvent), serveOutbound(fds.outbound6!, pod, origDst, onEvent));
      servers.push(serveInbound(fds.inbound4, pod, onEvent), serveInbound(fds.inbound6!, pod, onEvent));
      // HBONE (15008) is served by the agent in a later issue; the listener exists so SYNs to it are steered.
      const hbone = [fds.hbone4, fds.hbone6!].map((fd) => net.createServer((s) => s.destroy()).listen({ fd }));
      servers.push(...hbone);
      const pod_ = await enrollments.enroll(
        { name: pod.name, cgroupPath: pod.cgroupPath, netnsPath: pod.netnsPath, ips: [pod.ipv4, pod.ipv6] },
        fds,
      );
      p.detail(`pod ${pod.name}: pod id ${pod_.podId}, cgroup id ${pod_.cgroupId}, netns cookie ${pod_.netnsCookie}; listening on 127.0.0.1:15001 [::1]:15001 *:15006 *:15008`);
    }

    p.step(`Starting an app in pod b on port ${APP_PORT} (a plain Node TCP echo server, unaware of the mesh)`);
    const app = b.spawnNode(path.join(FIXTURES, 'tcp-echo-server.js'), ['--host', '::', '--port', String(APP_PORT)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const appConnections: string[] = [];
    await waitForLine(app, '"listening"');
    app.stdout?.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.includes('"connection"')) appConnections.push(line);
    });

    let failures = 0;
    for (const [label, host] of [
      ['IPv4', b.ipv4],
      ['IPv6', b.ipv6],
    ] as const) {
      p.step(`Pod a connects to ${label === 'IPv6' ? `[${host}]` : host}:${APP_PORT} (${label})`);
      const seen = events.length;
      const r = await runClient(a, host, `hello over ${label}`);
      const out = events.slice(seen).find((e) => e.direction === 'outbound');
      const inb = events.slice(seen).find((e) => e.direction === 'inbound');
      if (out?.origDst) {
        p.detail(`captured by cgroup/connect${label === 'IPv6' ? 6 : 4}: accepted on pod a's ${label === 'IPv6' ? '[::1]' : '127.0.0.1'}:15001 from ${out.client}`);
        p.detail(`original destination from the orig_dst map: ${out.destination} (IPv${out.origDst.family}, pod id ${out.origDst.podId})`);
      } else {
        p.fail('the connection was not captured on pod a');
      }
      if (inb) p.detail(`steered by sk_lookup in pod b: accepted on 15006 with local address ${inb.destination} from ${inb.client}`);
      else p.fail('the connection was not steered on pod b');
      if (r.ok) p.detail(`the client in pod a got "${r.reply}" back in ${r.ms.toFixed(0)} ms (process start included)`);
      else p.fail(`the client failed: ${r.error}`);
      if (!r.ok || !out || !inb) failures++;
    }

    p.step('What the kernel and the netfilter tables say');
    const counters = dp.counters();
    const shown = ['outbound_captured', 'orig_dst_recorded', 'inbound_steered', 'inbound_no_listener'];
    p.detail(`eBPF counters: ${shown.map((k) => `${k}=${counters[k]}`).join('  ')}`);
    p.detail(`the app saw ${appConnections.length} connections, each from the agent's source address: ${appConnections
      .map((l) => (JSON.parse(l) as { remoteAddress: string }).remoteAddress)
      .join(', ')}`);
    const rulesDuring = ruleLines();
    const podRules = ruleLines(a.netnsName).length + ruleLines(b.netnsName).length;
    p.detail(`iptables/nftables rules now: host ${rulesDuring.length} (before: ${rulesBefore.length}), pods ${podRules}`);
    if (rulesDuring.length !== rulesBefore.length || podRules) failures++;

    p.done('Tearing down');
    await teardown();
    const left = listLeftovers();
    const leftCount = left.netns.length + left.cgroups.length + left.pins.length;
    p.detail(`left behind: ${left.netns.length} netns, ${left.cgroups.length} cgroups, ${left.pins.length} bpffs pins`);
    if (leftCount) failures++;
    p.summary(failures === 0, failures === 0 ? 'capture works: both connections captured, recovered and completed, with no iptables rule' : `${failures} check(s) failed`);
    return failures === 0 ? 0 : 1;
  } catch (e) {
    p.fail((e as Error).message);
    await teardown();
    return 1;
  }
}
