/**
 * The capture demo's stand-in for the agent data path: plain L4 forwarding
 * (no mTLS — that is the agent's job in a later issue) so the demo shows a
 * captured connection completing transparently:
 *   outbound: accept on the pod's 15001, recover the original destination,
 *             dial it from inside the pod's netns with the agent mark;
 *   inbound:  accept on the pod's 15006, the local address is the original
 *             destination, dial the app from 127.0.0.6 / ::1 (not re-steered).
 */
import net from 'node:net';
import type { OrigDst } from '../../common/native/abi';
import { dialInNetns } from '../../common/net/netns-dial';
import { AGENT_SOCKET_MARK, AGENT_SOURCE_IPV4, AGENT_SOURCE_IPV6 } from '../../common/ports';
import type { OrigDstLookup } from '../../agent/capture/orig-dst';

export interface ForwardEvent {
  pod: string;
  direction: 'outbound' | 'inbound';
  client: string;
  destination: string;
  origDst?: OrigDst;
}

function splice(a: net.Socket, b: net.Socket): void {
  a.pipe(b);
  b.pipe(a);
  const done = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', done);
  b.on('error', done);
  a.on('close', () => b.end());
  b.on('close', () => a.end());
}

const hostPort = (address: string, port: number) => (net.isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`);

/** Serve a pod's outbound listener fd: forward each connection to its original destination. */
export function serveOutbound(
  fd: number,
  pod: { name: string; netnsPath: string },
  origDst: OrigDstLookup,
  onEvent: (e: ForwardEvent) => void,
): net.Server {
  return net
    .createServer((client) => {
      const dst = origDst.lookup(client);
      if (!dst) {
        client.destroy();
        return;
      }
      onEvent({
        pod: pod.name,
        direction: 'outbound',
        client: hostPort(client.remoteAddress ?? '?', client.remotePort ?? 0),
        destination: hostPort(dst.address, dst.port),
        origDst: dst,
      });
      client.pause();
      dialInNetns(pod.netnsPath, dst.address, dst.port, { mark: AGENT_SOCKET_MARK, noDelay: true }).then(
        (upstream) => splice(client, upstream),
        () => client.destroy(),
      );
    })
    .listen({ fd });
}

/** Serve a pod's inbound plaintext listener fd: hand each connection to the app it was meant for. */
export function serveInbound(fd: number, pod: { name: string; netnsPath: string }, onEvent: (e: ForwardEvent) => void): net.Server {
  return net
    .createServer((client) => {
      const local = client.localAddress ?? '';
      const port = client.localPort ?? 0;
      onEvent({
        pod: pod.name,
        direction: 'inbound',
        client: hostPort(client.remoteAddress ?? '?', client.remotePort ?? 0),
        destination: hostPort(local, port),
      });
      client.pause();
      const source = net.isIP(local) === 6 ? AGENT_SOURCE_IPV6 : AGENT_SOURCE_IPV4;
      dialInNetns(pod.netnsPath, local, port, { source, mark: AGENT_SOCKET_MARK, noDelay: true }).then(
        (app) => splice(client, app),
        () => client.destroy(),
      );
    })
    .listen({ fd });
}
