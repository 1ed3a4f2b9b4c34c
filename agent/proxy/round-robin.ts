/**
 * Round-robin over a changing list: each call starts one further along, and returns the whole list
 * rotated so the caller can fail over to the next entries. Cursors are per key (a Service or a
 * waypoint) and survive config updates; a shrinking list just wraps.
 */
export class RoundRobin {
  private readonly cursors = new Map<string, number>();

  order<T>(key: string, items: readonly T[]): T[] {
    if (items.length <= 1) return [...items];
    const at = (this.cursors.get(key) ?? 0) % items.length;
    this.cursors.set(key, at + 1);
    return [...items.slice(at), ...items.slice(0, at)];
  }

  /** Forget keys no longer in use (called on config updates). */
  retain(keys: ReadonlySet<string>): void {
    for (const k of this.cursors.keys()) if (!keys.has(k)) this.cursors.delete(k);
  }
}
