// How nodes reach each other's pod subnets. Two wirings, both entirely inside netns we created:
//
//   veth   (tests: exactly two nodes)  one veth pair between the two node netns
//            [node1] af… ═ af… [node2]
//   fabric (the local runtime: any number of nodes)  a "fabric" netns holding a bridge that every
//          node's uplink veth plugs into, like hosts on one L2 segment
//            [node1] uplink0 ═ af… ─┐
//            [node2] uplink0 ═ af… ─┼─ br0 [fabric netns]
//            [node3] uplink0 ═ af… ─┘
//
// Either way node N's link address is 198.18.255.N / fd00:a3b1:ff::N and every node has a route to
// every other node's pod subnet via that node's link address, so traffic is routed, never NATed:
// a pod sees the other pod's own address.
import * as addr from './addresses';
import { CleanupStack } from './cleanup';
import { ipIn } from './command';
import { SandboxNamer } from './names';
import { createNetns, Netns } from './netns';
import type { SandboxNode } from './node';

export type Interconnect = 'veth' | 'fabric';

/** Addresses the node's end of a link and brings it up. */
async function addressLinkEnd(node: SandboxNode, dev: string): Promise<void> {
  await ipIn(node.netns, ['link', 'set', dev, 'up']);
  await ipIn(node.netns, ['addr', 'add', `${addr.linkV4(node.index)}/${addr.V4_PREFIX_LEN}`, 'dev', dev]);
  await ipIn(node.netns, ['addr', 'add', `${addr.linkV6(node.index)}/${addr.V6_PREFIX_LEN}`, 'dev', dev, 'nodad']);
}

/** Routes in `from` to `to`'s pod subnets (v4 and v6) via `to`'s link address. */
async function routeTo(from: SandboxNode, to: SandboxNode): Promise<void> {
  await ipIn(from.netns, ['route', 'add', addr.podSubnetV4(to.index), 'via', addr.linkV4(to.index)]);
  await ipIn(from.netns, ['-6', 'route', 'add', addr.podSubnetV6(to.index), 'via', addr.linkV6(to.index)]);
}

/** One veth pair between two node netns plus routes to each other's pod subnets. */
export async function linkPair(a: SandboxNode, b: SandboxNode, namer: SandboxNamer): Promise<void> {
  const devA = namer.ifName('af');
  const devB = namer.ifName('af');
  await ipIn(a.netns, ['link', 'add', devA, 'type', 'veth', 'peer', 'name', devB, 'netns', b.netns]);
  await addressLinkEnd(a, devA);
  await addressLinkEnd(b, devB);
  await routeTo(a, b);
  await routeTo(b, a);
}

/** The fabric: a netns with a bridge every node's uplink plugs into. */
export class Fabric {
  private constructor(readonly netns: Netns) {}

  /** Creates the fabric netns (registered on `cleanup`) with its bridge up. */
  static async create(namer: SandboxNamer, cleanup: CleanupStack): Promise<Fabric> {
    const netns = await createNetns(namer.next(), cleanup);
    await ipIn(netns.name, ['link', 'add', 'br0', 'type', 'bridge']);
    await ipIn(netns.name, ['link', 'set', 'br0', 'up']);
    return new Fabric(netns);
  }

  /**
   * Plugs `node` in: its uplink0 on the fabric bridge, then routes between it and every node
   * already plugged in (`others`), both ways.
   */
  async attach(node: SandboxNode, others: readonly SandboxNode[], namer: SandboxNamer): Promise<void> {
    const port = namer.ifName('af');
    await ipIn(node.netns, ['link', 'add', 'uplink0', 'type', 'veth', 'peer', 'name', port, 'netns', this.netns.name]);
    await ipIn(this.netns.name, ['link', 'set', port, 'master', 'br0', 'up']);
    await addressLinkEnd(node, 'uplink0');
    for (const other of others) {
      await routeTo(node, other);
      await routeTo(other, node);
    }
  }
}
