/** Per-endpoint count of requests in flight through one balancer (what LEAST_REQUEST compares). */
export class ActiveRequests {
  private readonly counts = new Map<string, number>();

  started(uid: string): void {
    this.counts.set(uid, (this.counts.get(uid) ?? 0) + 1);
  }

  /** Never goes below zero, so an unpaired finished() cannot make an endpoint look idle forever. */
  finished(uid: string): void {
    const n = this.counts.get(uid) ?? 0;
    if (n <= 1) this.counts.delete(uid);
    else this.counts.set(uid, n - 1);
  }

  active(uid: string): number {
    return this.counts.get(uid) ?? 0;
  }
}

/** The endpoints not in `exclude`, or all of them when that would leave none (retry fallback). */
export function candidates<E extends { readonly uid: string }>(endpoints: readonly E[], exclude: ReadonlySet<string> | undefined): readonly E[] {
  if (exclude === undefined || exclude.size === 0) return endpoints;
  const left = endpoints.filter((e) => !exclude.has(e.uid));
  return left.length === 0 ? endpoints : left;
}
