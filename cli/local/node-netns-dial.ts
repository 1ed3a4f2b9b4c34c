// How the embedded control plane's dashboard reaches metrics addresses in the local runtime. The
// agents serve theirs on 127/8 in the runtime's own netns: dialed as they are. Waypoints serve
// theirs on their pod IP, which only the nodes route (nothing is added to the host's netns): that
// socket is created inside a node's network namespace (common/net/netns-dial.ts), as the
// readiness probes do; any node reaches every pod over the fabric.
import net from 'node:net';
import { dialInNetns } from '../../common/net/netns-dial';
import { directDial, type MetricsDialer } from '../../control-plane/dashboard/metrics-fetch';

const isLoopback = (host: string): boolean => host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));

/** `nodeNetnsFd` gives an open fd of any node's netns (undefined before the first node exists). */
export function nodeNetnsDial(nodeNetnsFd: () => number | undefined): MetricsDialer {
  return async (host, port, signal) => {
    if (isLoopback(host) || net.isIP(host) === 0) return directDial(host, port, signal);
    const netnsFd = nodeNetnsFd();
    if (netnsFd === undefined) throw new Error('no node network namespace exists yet to reach pod addresses from');
    return dialInNetns(netnsFd, host, port, { signal });
  };
}
