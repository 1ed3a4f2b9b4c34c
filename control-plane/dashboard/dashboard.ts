/**
 * The live dashboard, served by the control plane's status server:
 *
 *   GET /dashboard             the page (assets/index.html; vanilla JS + inline SVG, no network needed)
 *   GET /dashboard/app.js      its script; /dashboard/app.css its style
 *   GET /dashboard/api/graph   the graph document the page polls every 2 s (graph-document.ts)
 *
 * Scraping is on demand: the first API request starts it and it stops when nobody has asked for
 * `idleStopMs`, so a control plane nobody looks at never scrapes its 100s of clients.
 */
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { silentLogger, type Logger } from '../../common/log';
import { projectRoot } from '../../common/project-root';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';
import type { RouteHandler } from '../http/status-server';
import type { ResourceStore } from '../model/resource-store';
import type { ClientInfo } from '../push';
import { buildGraphDocument, type GraphDocument } from './graph-document';
import { directDial, fetchMetricsText, type MetricsDialer } from './metrics-fetch';
import { MetricsScraper, type ScrapeTarget, type TargetState } from './metrics-scraper';
import type { ScrapedTarget } from './proxy-health';
import { buildInventory } from './workload-inventory';

export const DASHBOARD_ASSET_DIR = path.join(projectRoot(), 'control-plane', 'dashboard', 'assets');

const ASSETS: ReadonlyArray<[route: string, file: string, contentType: string]> = [
  ['/dashboard', 'index.html', 'text/html; charset=utf-8'],
  ['/dashboard/app.js', 'app.js', 'text/javascript; charset=utf-8'],
  ['/dashboard/app.css', 'app.css', 'text/css; charset=utf-8'],
];

// The page loads nothing but its own files and talks only to this server.
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

export interface DashboardOptions {
  store: ResourceStore;
  rootNamespace: string;
  /** The config service's subscribed clients (their metrics_url are the scrape targets). */
  clients: () => readonly ClientInfo[];
  /** How to reach a metrics address; default a plain TCP connection. */
  dial?: MetricsDialer;
  intervalMs?: number;
  windowMs?: number;
  timeoutMs?: number;
  idleStopMs?: number;
  logger?: Logger;
}

export interface Dashboard {
  /** Route table entries for the status server. */
  readonly routes: ReadonlyMap<string, RouteHandler>;
  /** The current graph document (starts scraping if it is not running). */
  document(): Promise<GraphDocument>;
  close(): void;
}

function readAssets(): Map<string, { body: Buffer; contentType: string }> {
  const out = new Map<string, { body: Buffer; contentType: string }>();
  for (const [route, file, contentType] of ASSETS) {
    const p = path.join(DASHBOARD_ASSET_DIR, file);
    try {
      out.set(route, { body: fs.readFileSync(p), contentType });
    } catch (err) {
      throw new ControlPlaneError(ControlPlaneErrorCodes.INVALID_OPTION, `dashboard asset ${p} cannot be read (${(err as NodeJS.ErrnoException).code}); the control plane needs its checkout's control-plane/dashboard/assets`, { cause: err });
    }
  }
  return out;
}

function targetOf(c: ClientInfo): ScrapeTarget {
  return {
    kind: c.kind,
    target: c.kind === 'agent' ? c.node ?? '' : c.waypoint ?? '',
    ...(c.metricsUrl !== undefined ? { metricsUrl: c.metricsUrl } : {}),
    ...(c.metricsUrlProblem !== undefined ? { metricsUrlProblem: c.metricsUrlProblem } : {}),
    connectedAt: c.connectedAt,
  };
}

export function createDashboard(opts: DashboardOptions): Dashboard {
  const logger = (opts.logger ?? silentLogger).child({ component: 'dashboard' });
  const assets = readAssets();
  const timeoutMs = opts.timeoutMs ?? 1_500;
  const idleStopMs = opts.idleStopMs ?? 60_000;
  const dial = opts.dial ?? directDial;
  const scraper = new MetricsScraper({
    targets: () => opts.clients().map(targetOf),
    fetch: (url) => fetchMetricsText(url, { timeoutMs, maxBytes: 32 * 1024 * 1024, dial }),
    intervalMs: opts.intervalMs,
    windowMs: opts.windowMs,
    logger,
  });
  let idleTimer: NodeJS.Timeout | undefined;
  const lastLive = new Map<string, number>();
  let firstRound: Promise<void> | undefined;

  const keepScraping = (): Promise<void> => {
    if (!scraper.running) {
      logger.info({ intervalMs: scraper.intervalMs }, 'dashboard opened: scraping agents and waypoints');
      firstRound = scraper.start();
    }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      scraper.stop();
      logger.info('dashboard idle: scraping stopped');
    }, idleStopMs);
    idleTimer.unref();
    return firstRound ?? Promise.resolve();
  };

  const scraped = (s: TargetState): ScrapedTarget => ({
    target: s.target,
    connected: s.connected,
    healthy: scraper.healthy(s),
    ...(s.lastSuccessAt !== undefined ? { lastSuccessAt: s.lastSuccessAt } : {}),
    ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
    ...(s.history.length > 0 ? { first: s.history[0], last: s.history[s.history.length - 1] } : {}),
  });

  const document = async (): Promise<GraphDocument> => {
    // The very first request waits for one round, so it already shows every target's state.
    await keepScraping();
    return buildGraphDocument({
      inventory: buildInventory(opts.store, opts.rootNamespace),
      windows: scraper.windows(),
      targets: scraper.targets().map(scraped),
      intervalMs: scraper.intervalMs,
      windowMs: scraper.windowMs,
      now: new Date(),
      lastLive,
    });
  };

  const routes = new Map<string, RouteHandler>();
  for (const [route, asset] of assets) {
    routes.set(route, (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeHead(200, { 'content-type': asset.contentType, ...SECURITY_HEADERS });
      res.end(asset.body);
    });
  }
  routes.set('/dashboard/api/graph', async (_req, res) => {
    const body = JSON.stringify(await document());
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS });
    res.end(body);
  });

  return {
    routes,
    document,
    close: () => {
      clearTimeout(idleTimer);
      scraper.stop();
    },
  };
}
