/**
 * Config versions: "<server-instance-id>-<counter>". The counter names a store generation and only
 * grows, so versions are monotonic for one server start; a restarted server has a new instance id,
 * so a client can tell its versions apart from the previous server's.
 */
import { randomBytes } from 'node:crypto';

export class VersionClock {
  private counter = 0;
  private generation = Number.NaN;

  constructor(readonly instanceId: string = randomBytes(4).toString('hex')) {}

  /** The version of store generation `generation`; a new one the first time it is asked for. */
  versionFor(generation: number): string {
    if (generation !== this.generation) {
      this.generation = generation;
      this.counter++;
    }
    return this.format(this.counter);
  }

  /** The last version handed out ("<id>-0" before any). */
  current(): string {
    return this.format(this.counter);
  }

  /** The counter of one of this instance's versions, or undefined for anything else. */
  counterOf(version: string): number | undefined {
    const prefix = `${this.instanceId}-`;
    if (!version.startsWith(prefix)) return undefined;
    const rest = version.slice(prefix.length);
    if (!/^[0-9]+$/.test(rest)) return undefined;
    const n = Number(rest);
    return n <= this.counter ? n : undefined;
  }

  private format(counter: number): string {
    return `${this.instanceId}-${counter}`;
  }
}
