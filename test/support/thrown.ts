/** Runs `fn`, which must throw; returns what it threw, for assertions on its fields. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}
