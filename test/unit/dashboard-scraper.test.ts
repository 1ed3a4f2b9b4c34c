// The scraper's bookkeeping on a controlled clock: rate windows from the scrapes of the last
// windowMs, a failing target unhealthy and left out of the rates without holding up the others,
// a gone target kept for a while and then forgotten. The metric text is what prom-client renders.
import { Counter, Registry } from 'prom-client';
import { MetricsScraper, type ScrapeTarget } from '../../control-plane/dashboard/metrics-scraper';

describe('MetricsScraper', () => {
  let now = 1_000_000;
  const registry = new Registry();
  const opened = new Counter({ name: 'istio_tcp_connections_opened_total', help: 'h', labelNames: ['reporter'], registers: [registry] });
  const good: ScrapeTarget = { kind: 'agent', target: 'node1', metricsUrl: 'http://127.0.0.1:15020/metrics', connectedAt: new Date(now) };
  const broken: ScrapeTarget = { kind: 'waypoint', target: 'shop/waypoint', metricsUrl: 'http://10.0.0.9:15020/metrics', connectedAt: new Date(now) };
  let targets: ScrapeTarget[] = [good, broken];
  const asked: string[] = [];
  const scraper = new MetricsScraper({
    targets: () => targets,
    fetch: async (url) => {
      asked.push(url);
      if (url === broken.metricsUrl) throw new Error('connect EHOSTUNREACH');
      return registry.metrics();
    },
    intervalMs: 2_000,
    windowMs: 10_000,
    forgetAfterMs: 60_000,
    now: () => now,
  });

  it('takes rates over the window and keeps only the scrapes it needs', async () => {
    for (let i = 0; i < 8; i++) {
      opened.inc({ reporter: 'source' }, 5);
      await scraper.tick();
      now += 2_000;
    }
    const [w] = scraper.windows();
    // 8 scrapes 2 s apart: the oldest kept is the newest at or before (last - 10 s).
    expect(w.seconds).toBe(10);
    expect(w.last.find((s) => s.name === 'istio_tcp_connections_opened_total')!.value - w.first.find((s) => s.name === 'istio_tcp_connections_opened_total')!.value).toBe(25);
    expect(scraper.targets().find((t) => t.target.target === 'node1')!.history).toHaveLength(6);
    expect(asked.filter((u) => u === broken.metricsUrl)).toHaveLength(8);
  });

  it('shows a failing target unhealthy with its error and leaves it out of the rates', () => {
    const [ok, bad] = ['node1', 'shop/waypoint'].map((t) => scraper.targets().find((s) => s.target.target === t)!);
    expect(scraper.healthy(ok)).toBe(true);
    expect(scraper.healthy(bad)).toBe(false);
    expect(bad.lastError).toBe('connect EHOSTUNREACH');
    expect(scraper.windows()).toHaveLength(1);
  });

  it('keeps a target that left as disconnected, unscraped, then forgets it', async () => {
    targets = [good];
    const before = asked.length;
    await scraper.tick();
    const gone = scraper.targets().find((s) => s.target.target === 'shop/waypoint')!;
    expect(gone.connected).toBe(false);
    expect(asked.slice(before)).toEqual([good.metricsUrl]);
    now += 61_000;
    await scraper.tick();
    expect(scraper.targets().map((s) => s.target.target)).toEqual(['node1']);
    expect(scraper.healthy(scraper.targets()[0])).toBe(true);
    // Without a scrape for over three intervals a target is no longer healthy.
    now += 6_001;
    expect(scraper.healthy(scraper.targets()[0])).toBe(false);
  });
});
