/**
 * One pod's enrollment operations, one at a time, across every session and the re-enrollment of
 * recorded pods: what a del checks (the sandbox the pod was enrolled with) must still hold when
 * it acts, and a retried re-enrollment must not slip between a CNI plugin's del and its add.
 */
export class UidQueue {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every operation queued before it on `uid` has settled. */
  run<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(uid) ?? Promise.resolve();
    const next = prev.then(fn);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(uid, tail);
    void tail.then(() => {
      if (this.tails.get(uid) === tail) this.tails.delete(uid);
    });
    return next;
  }

  /** Settles once no operation is queued or running on any uid. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}
