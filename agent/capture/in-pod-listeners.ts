/**
 * The agent's listeners inside one pod's network namespace, created through
 * the addon's netns socket factory: 15001 (outbound capture, loopback only),
 * 15006 (inbound plaintext) and 15008 (HBONE), for IPv4 and, when the pod has
 * IPv6, for IPv6. Returns raw listening fds: 15006/15008 go into the
 * listeners sockmap, and every fd can be served with net.Server.listen({fd}).
 */
import fs from 'node:fs';
import { Native } from '../../common/native/addon';
import { AGENT_SOCKET_MARK, Ports } from '../../common/ports';

export interface InPodListenerFds {
  outbound4: number;
  inbound4: number;
  hbone4: number;
  outbound6?: number;
  inbound6?: number;
  hbone6?: number;
}

export interface ListenerOptions {
  ipv6: boolean;
  ports?: { outbound?: number; inbound?: number; hbone?: number };
}

export async function openInPodListeners(netnsFd: number, opts: ListenerOptions): Promise<InPodListenerFds> {
  const outbound = opts.ports?.outbound ?? Ports.outbound;
  const inbound = opts.ports?.inbound ?? Ports.inbound;
  const hbone = opts.ports?.hbone ?? Ports.hbone;
  const opened: number[] = [];
  const listen = async (family: 4 | 6, address: string, port: number): Promise<number> => {
    const fd = await Native.createSocket({ netnsFd, family, address, port, listen: true, mark: AGENT_SOCKET_MARK });
    opened.push(fd);
    return fd;
  };
  try {
    const fds: InPodListenerFds = {
      outbound4: await listen(4, '127.0.0.1', outbound),
      inbound4: await listen(4, '0.0.0.0', inbound),
      hbone4: await listen(4, '0.0.0.0', hbone),
    };
    if (opts.ipv6) {
      fds.outbound6 = await listen(6, '::1', outbound);
      fds.inbound6 = await listen(6, '::', inbound);
      fds.hbone6 = await listen(6, '::', hbone);
    }
    return fds;
  } catch (e) {
    for (const fd of opened) fs.closeSync(fd);
    throw e;
  }
}
