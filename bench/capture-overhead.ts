/**
 * What eBPF capture costs a connection, measured as ratios on this kernel.
 *
 * outbound: in enrolled pod a, N round trips to the agent's 127.0.0.1:15001
 *   listener — once dialled directly (loopback is never captured), once as
 *   connect(pod b:8080) redirected by cgroup/connect4 + sockops, with the
 *   original destination looked up on accept in both. Same pod, process and
 *   listener: the difference is the capture path.
 * inbound: from pod c, N round trips to pod b:8080 — once steered by
 *   sk_lookup to the agent's 15006 listener, once (b unenrolled) to an
 *   identical listener bound on b:8080. Same server code and process.
 *
 * Peers (Istio's iptables REDIRECT/TPROXY) are not run side by side here:
 * Ambit's rule is that no iptables/nftables rule is written on this machine.
 * Run: npm run bench   (root; uses the test harness)
 */
import net from 'node:net';
import path from 'node:path';
import { CaptureDatapath } from '../agent/capture/capture-programs';
import { openInPodListeners } from '../agent/capture/in-pod-listeners';
import { withNetns } from '../common/net/netns-dial';
import { PodEnrollments } from '../agent/capture/pod-enrollment';
import { BpfOrigDstLookup } from '../agent/capture/orig-dst';
import { Native, projectRoot } from '../common/native/addon';
import { cleanupAll, createMesh, defer, requirePrivileged, type Pod } from '../test/harness';

const N = Number(process.env.AMBIT_BENCH_N ?? 2000);
const LOOP = path.join(projectRoot(), 'bench', 'fixtures', 'connect-loop.js');

interface Stats {
  n: number;
  p50_us: number;
  p99_us: number;
  mean_us: number;
}

function serve(fd: number, onAccept: (s: net.Socket) => void): net.Server {
  return net
    .createServer((s) => {
      onAccept(s);
      s.on('error', () => s.destroy());
      s.once('data', () => s.end('y'));
    })
    .listen({ fd });
}

async function loop(pod: Pod, host: string, port: number): Promise<Stats> {
  const r = await pod.execNode(LOOP, [host, String(port), String(N)], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`connect-loop failed in ${pod.name}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Stats;
}

const fmt = (s: Stats) => `p50 ${s.p50_us.toFixed(0)} µs, p99 ${s.p99_us.toFixed(0)} µs, mean ${s.mean_us.toFixed(0)} µs`;
const ratio = (a: Stats, b: Stats) => `p50 ×${(a.p50_us / b.p50_us).toFixed(2)}, mean ×${(a.mean_us / b.mean_us).toFixed(2)}`;

async function main(): Promise<void> {
  requirePrivileged();
  const mesh = await createMesh({ nodes: 1 });
  const servers: net.Server[] = [];
  let dp: CaptureDatapath | undefined;
  defer('bench', async () => {
    servers.forEach((s) => s.close());
    dp?.close();
    await mesh.destroy();
  });
  const node = mesh.nodes[0];
  const [a, b, c] = [await node.addPod('a'), await node.addPod('b'), await node.addPod('c')];
  dp = await CaptureDatapath.load({ cgroupRoot: node.cgroupPath });
  const enrollments = new PodEnrollments(dp);
  const origDst = new BpfOrigDstLookup(dp.maps.origDst);
  let found = 0;
  const enroll = async (pod: Pod) => {
    const fds = await withNetns(pod.netnsPath, (fd) => openInPodListeners(fd, { ipv6: false }));
    servers.push(serve(fds.outbound4, (s) => (found += origDst.lookup(s) ? 1 : 0)));
    servers.push(serve(fds.inbound4, () => undefined), serve(fds.hbone4, () => undefined));
    await enrollments.enroll({ name: pod.name, cgroupPath: pod.cgroupPath, netnsPath: pod.netnsPath, ips: [pod.ipv4] }, fds);
  };
  await enroll(a);
  await enroll(b);

  console.log(`Ambit capture overhead, ${N} sequential connect + 1-byte round trips per case`);
  const outDirect = await loop(a, '127.0.0.1', 15001);
  found = 0;
  const outCaptured = await loop(a, b.ipv4, 8080);
  console.log(`outbound direct to 127.0.0.1:15001     ${fmt(outDirect)}`);
  console.log(`outbound captured (connect4 + sockops)  ${fmt(outCaptured)}  (orig dst found ${found}/${N + 20})`);
  console.log(`  ratio captured/direct: ${ratio(outCaptured, outDirect)}`);

  const inSteered = await loop(c, b.ipv4, 8080);
  enrollments.unenroll('b');
  const fd = await withNetns(b.netnsPath, (netnsFd) =>
    Native.createSocket({ netnsFd, family: 4, address: b.ipv4, port: 8080, listen: true }),
  );
  servers.push(serve(fd, () => undefined));
  const inDirect = await loop(c, b.ipv4, 8080);
  console.log(`inbound direct to b:8080                ${fmt(inDirect)}`);
  console.log(`inbound steered by sk_lookup to 15006   ${fmt(inSteered)}`);
  console.log(`  ratio steered/direct: ${ratio(inSteered, inDirect)}`);
}

// Tear down (async: pods, cgroups, links) before exiting, also after a failure.
main()
  .then(
    () => 0,
    (e) => {
      console.error(e);
      return 1;
    },
  )
  .then(async (code) => {
    await cleanupAll();
    process.exit(code);
  });
