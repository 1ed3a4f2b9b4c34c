/**
 * A layered left-to-right layout (a small Sugiyama): callers left, callees right. A node's column
 * is its longest path from a node nobody calls (cycles are broken at their back edges); inside a
 * column nodes are ordered by the mean row of their callers, so edges cross less. Nodes without
 * traffic go to a grid under the graph. Pure; the page only draws what this computes.
 */

export interface LayoutEdge {
  readonly from: string;
  readonly to: string;
}

export interface Position {
  readonly x: number;
  readonly y: number;
  /** Column index; -1 for nodes without traffic (the grid below). */
  readonly layer: number;
}

export interface Layout {
  readonly width: number;
  readonly height: number;
  readonly nodeWidth: number;
  readonly nodeHeight: number;
  readonly positions: Readonly<Record<string, Position>>;
}

const NODE_W = 170;
const NODE_H = 40;
const COL = 380;
const ROW = 72;
const PAD = 20;

/** Edges that close a cycle, found by depth-first search in id order (deterministic). */
function backEdges(ids: readonly string[], out: ReadonlyMap<string, readonly string[]>): Set<string> {
  const state = new Map<string, 1 | 2>();
  const back = new Set<string>();
  const visit = (n: string): void => {
    state.set(n, 1);
    for (const m of out.get(n) ?? []) {
      const s = state.get(m);
      if (s === 1) back.add(`${n}\u0000${m}`);
      else if (s === undefined) visit(m);
    }
    state.set(n, 2);
  };
  for (const id of ids) if (!state.has(id)) visit(id);
  return back;
}

export function layoutGraph(nodeIds: readonly string[], edges: readonly LayoutEdge[]): Layout {
  const ids = [...new Set(nodeIds)].sort();
  const known = new Set(ids);
  const live = edges.filter((e) => known.has(e.from) && known.has(e.to) && e.from !== e.to);
  const out = new Map<string, string[]>();
  for (const e of live) out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
  const back = backEdges(ids, out);
  const forward = live.filter((e) => !back.has(`${e.from}\u0000${e.to}`));
  const preds = new Map<string, string[]>();
  for (const e of forward) preds.set(e.to, [...(preds.get(e.to) ?? []), e.from]);
  const connected = new Set(live.flatMap((e) => [e.from, e.to]));

  // Longest path from a root; the forward graph is acyclic, so memoised recursion ends.
  const layerOf = new Map<string, number>();
  const layer = (n: string): number => {
    const known = layerOf.get(n);
    if (known !== undefined) return known;
    const l = Math.max(-1, ...(preds.get(n) ?? []).map(layer)) + 1;
    layerOf.set(n, l);
    return l;
  };
  const columns: string[][] = [];
  for (const id of ids.filter((n) => connected.has(n))) (columns[layer(id)] ??= []).push(id);

  const row = new Map<string, number>();
  for (const col of columns) {
    const mean = (n: string): number => {
      const rows = (preds.get(n) ?? []).map((p) => row.get(p)).filter((r): r is number => r !== undefined);
      return rows.length === 0 ? Infinity : rows.reduce((a, b) => a + b, 0) / rows.length;
    };
    col.sort((a, b) => mean(a) - mean(b) || a.localeCompare(b));
    col.forEach((n, i) => row.set(n, i));
  }

  const positions: Record<string, Position> = {};
  const rows = Math.max(0, ...columns.map((c) => c.length));
  columns.forEach((col, l) => col.forEach((n, i) => (positions[n] = { x: PAD + l * COL, y: PAD + i * ROW, layer: l })));

  const idle = ids.filter((n) => !connected.has(n));
  const perRow = Math.max(1, columns.length, 4);
  const idleTop = PAD + rows * ROW + (rows > 0 ? ROW / 2 : 0);
  idle.forEach((n, i) => (positions[n] = { x: PAD + (i % perRow) * COL, y: idleTop + Math.floor(i / perRow) * ROW, layer: -1 }));
  const idleRows = Math.ceil(idle.length / perRow);

  return {
    width: Math.max(400, PAD * 2 + Math.max(columns.length, Math.min(idle.length, perRow)) * COL - (COL - NODE_W)),
    height: Math.max(120, idleTop + idleRows * ROW + PAD),
    nodeWidth: NODE_W,
    nodeHeight: NODE_H,
    positions,
  };
}
