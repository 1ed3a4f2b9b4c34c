// Where a pod without spec.nodeName runs: the node with the fewest pods (ties: the first node
// created), like the default scheduler's LeastAllocated score with pods as the only resource.

export interface NodeLoad {
  name: string;
  pods: number;
}

/** The least-loaded node; throws when there is none. */
export function leastLoadedNode(nodes: readonly NodeLoad[]): string {
  if (nodes.length === 0) throw new Error('no node to schedule on');
  return nodes.reduce((best, n) => (n.pods < best.pods ? n : best)).name;
}
