/**
 * Polls the /metrics of every connected agent and waypoint (their Subscribe.metrics_url) every
 * `intervalMs`, each target on its own with a deadline, so one that hangs or fails is shown
 * unhealthy and never delays the others. Keeps each target's scrapes of the last `windowMs`:
 * rates are taken between the oldest and the newest of them.
 *
 * A target is keyed by kind, target and URL, so a client that reconnects (an agent restart) keeps
 * its history (a counter reset is handled by counterIncrease). A target that disconnected is kept,
 * unscraped, for `forgetAfterMs`, so the dashboard shows it as gone rather than silently dropping it.
 */
import { silentLogger, type Logger } from '../../common/log';
import { isDashboardMetric } from './metric-names';
import { parsePrometheusText, type Sample } from '../../common/telemetry/prometheus-text';
import type { ScrapeWindow } from './series-math';

export interface ScrapeTarget {
  readonly kind: 'agent' | 'waypoint';
  /** Node name (agents) or "<ns>/<name>" (waypoints). */
  readonly target: string;
  readonly metricsUrl?: string;
  readonly metricsUrlProblem?: string;
  readonly connectedAt: Date;
}

export interface Scrape {
  readonly at: number;
  readonly samples: readonly Sample[];
}

export interface TargetState {
  readonly key: string;
  target: ScrapeTarget;
  connected: boolean;
  /** When it was last seen connected (ms since epoch). */
  lastSeenAt: number;
  history: Scrape[];
  lastAttemptAt?: number;
  lastSuccessAt?: number;
  /** Why the latest attempt failed; cleared by a success. */
  lastError?: string;
  inFlight: boolean;
}

export interface ScraperOptions {
  targets: () => readonly ScrapeTarget[];
  fetch: (url: string) => Promise<string>;
  intervalMs?: number;
  windowMs?: number;
  forgetAfterMs?: number;
  now?: () => number;
  logger?: Logger;
}

export const DEFAULT_SCRAPE_INTERVAL_MS = 2_000;
export const DEFAULT_RATE_WINDOW_MS = 10_000;

export class MetricsScraper {
  readonly intervalMs: number;
  readonly windowMs: number;
  private readonly forgetAfterMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly states = new Map<string, TargetState>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ScraperOptions) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_SCRAPE_INTERVAL_MS;
    this.windowMs = opts.windowMs ?? DEFAULT_RATE_WINDOW_MS;
    this.forgetAfterMs = opts.forgetAfterMs ?? 5 * 60_000;
    this.now = opts.now ?? Date.now;
    this.log = (opts.logger ?? silentLogger).child({ component: 'dashboard-scraper' });
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /**
   * Scrapes now, then every interval; the timer does not keep the process alive. Resolves when
   * the first round is done (at once when already running).
   */
  start(): Promise<void> {
    if (this.timer !== undefined) return Promise.resolve();
    this.timer = setInterval(() => this.tick().catch((err: unknown) => this.log.error({ err }, 'dashboard scrape round failed')), this.intervalMs);
    this.timer.unref();
    return this.tick();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round: refreshes the target list and scrapes every connected target not still in flight. */
  async tick(): Promise<void> {
    const now = this.now();
    const seen = new Set<string>();
    for (const t of this.opts.targets()) {
      const key = `${t.kind}/${t.target}|${t.metricsUrl ?? ''}`;
      seen.add(key);
      const s = this.states.get(key);
      if (s === undefined) this.states.set(key, { key, target: t, connected: true, lastSeenAt: now, history: [], inFlight: false });
      else Object.assign(s, { target: t, connected: true, lastSeenAt: now });
    }
    for (const [key, s] of this.states) {
      if (seen.has(key)) continue;
      s.connected = false;
      if (now - s.lastSeenAt > this.forgetAfterMs) this.states.delete(key);
    }
    const rounds = [...this.states.values()].filter((s) => s.connected && !s.inFlight && s.target.metricsUrl !== undefined).map((s) => this.scrape(s));
    await Promise.all(rounds);
  }

  private async scrape(s: TargetState): Promise<void> {
    s.inFlight = true;
    s.lastAttemptAt = this.now();
    try {
      const text = await this.opts.fetch(s.target.metricsUrl!);
      const samples = parsePrometheusText(text, isDashboardMetric);
      const at = this.now();
      s.history.push({ at, samples });
      // Keep one scrape older than the window so the window spans all of it.
      while (s.history.length > 2 && s.history[1].at <= at - this.windowMs) s.history.shift();
      s.lastSuccessAt = at;
      s.lastError = undefined;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (s.lastError !== message) this.log.warn({ target: s.target.target, kind: s.target.kind, url: s.target.metricsUrl, error: message }, 'dashboard scrape failed');
      s.lastError = message;
    } finally {
      s.inFlight = false;
    }
  }

  /** Every known target, connected or recently gone. */
  targets(): readonly TargetState[] {
    return [...this.states.values()];
  }

  /** Whether the target's latest scrape succeeded and is recent (within three intervals). */
  healthy(s: TargetState): boolean {
    return s.connected && s.lastError === undefined && s.lastSuccessAt !== undefined && this.now() - s.lastSuccessAt <= 3 * this.intervalMs;
  }

  /** The rate window of each healthy target (stale numbers of a failing one are left out). */
  windows(): ScrapeWindow[] {
    const out: ScrapeWindow[] = [];
    for (const s of this.states.values()) {
      if (!this.healthy(s) || s.history.length === 0) continue;
      const first = s.history[0];
      const last = s.history[s.history.length - 1];
      out.push({ first: first.samples, last: last.samples, seconds: (last.at - first.at) / 1000 });
    }
    return out;
  }
}
