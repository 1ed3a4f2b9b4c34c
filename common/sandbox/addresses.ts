// The address plan of a sandbox cluster (tests and the local runtime alike). Only ranges reserved
// for exactly this kind of use, so no address ever means something outside this machine:
//   IPv4: 198.18.0.0/15 (RFC 2544 benchmarking; never routed on the Internet)
//   IPv6: fd00:a3b1::/32 inside the ULA range fc00::/7 (RFC 4193)
//
//   node N pod subnet        198.18.N.0/24      fd00:a3b1:N::/64     gateway .1 / ::1 on br0
//   pod i (0-based) on N     198.18.N.(10+i)    fd00:a3b1:N::(10+i)
//   node-to-node link        198.18.255.0/24    fd00:a3b1:ff::/64    node N is .N / ::N
//     (one veth between two nodes, or every node's uplink on the fabric bridge: see cluster.ts)
// IPv6 host parts are written with the same digits as the IPv4 ones (::10 for .10) for legibility.

/** Node indexes are 1-based and become the third octet; 255 is the node-to-node link. */
export const MAX_NODE_INDEX = 254;
/** Pods get .10 ... .254. */
export const MAX_PODS_PER_NODE = 245;

function checkNode(node: number): void {
  if (!Number.isInteger(node) || node < 1 || node > MAX_NODE_INDEX) {
    throw new RangeError(`node index ${node} is outside 1..${MAX_NODE_INDEX}`);
  }
}

function checkPod(i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= MAX_PODS_PER_NODE) {
    throw new RangeError(`pod index ${i} is outside 0..${MAX_PODS_PER_NODE - 1}`);
  }
}

export const podSubnetV4 = (node: number): string => (checkNode(node), `198.18.${node}.0/24`);
export const podSubnetV6 = (node: number): string => (checkNode(node), `fd00:a3b1:${node}::/64`);
export const gatewayV4 = (node: number): string => (checkNode(node), `198.18.${node}.1`);
export const gatewayV6 = (node: number): string => (checkNode(node), `fd00:a3b1:${node}::1`);

export const podV4 = (node: number, i: number): string => (checkNode(node), checkPod(i), `198.18.${node}.${10 + i}`);
export const podV6 = (node: number, i: number): string => (checkNode(node), checkPod(i), `fd00:a3b1:${node}::${10 + i}`);

export const linkV4 = (node: number): string => (checkNode(node), `198.18.255.${node}`);
export const linkV6 = (node: number): string => (checkNode(node), `fd00:a3b1:ff::${node}`);

export const V4_PREFIX_LEN = 24;
export const V6_PREFIX_LEN = 64;
