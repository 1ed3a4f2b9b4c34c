/**
 * What ring hash and Maglev have in common: an immutable table built once per endpoint set that maps
 * a 53-bit key hash to one endpoint of the set.
 */
export interface HashTable {
  /** The endpoint set, sorted; lookups answer an index into it. */
  readonly uids: readonly string[];
  /**
   * The endpoint for `hash`, or the next one along the table whose uid is not in `skip` (the hosts a
   * retry already tried: Envoy's previous_hosts predicate re-picks, walking on keeps it deterministic).
   * Undefined when every endpoint is skipped.
   */
  lookup(hash: number, skip?: ReadonlySet<string>): number | undefined;
}
