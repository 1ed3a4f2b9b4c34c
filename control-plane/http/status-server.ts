/**
 * The control plane's status HTTP server: /metrics, /healthz/ready, /debug/clients,
 * /debug/problems. Routes live in one table so later pages (a dashboard) are one route() away.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { silentLogger, type Logger } from '../../common/log';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';

/** True when ready; false, a throw or a rejection means not ready. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

export interface StatusServerOptions {
  /** Interface to listen on, e.g. 127.0.0.1 or 0.0.0.0. */
  host: string;
  /** 0 = any free port (see `address`). */
  port: number;
  /** The control plane's registry (control-plane/metrics.ts). */
  registry: Registry;
  /** Source of /debug/clients (the config service handle's clients()). */
  clients?: () => unknown;
  /** Source of /debug/problems (config documents that failed to translate, ...). */
  problems?: () => unknown;
  readinessChecks?: Readonly<Record<string, ReadinessCheck>>;
  /** A check that takes longer counts as failing; default 2000 ms. */
  readinessTimeoutMs?: number;
  logger?: Logger;
}

export interface StatusServer {
  readonly address: { host: string; port: number };
  /** http://host:port */
  readonly url: string;
  /** Registers a named readiness check; returns the function that removes it. */
  addReadinessCheck(name: string, check: ReadinessCheck): () => void;
  setClientsProvider(provider: () => unknown): void;
  setProblemsProvider(provider: () => unknown): void;
  /** Adds or replaces the GET handler of `path`. */
  route(path: string, handler: RouteHandler): void;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

const sendJson = (res: http.ServerResponse, value: unknown): void =>
  send(res, 200, `${JSON.stringify(value, null, 2)}\n`, 'application/json; charset=utf-8');

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(check), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export async function startStatusServer(opts: StatusServerOptions): Promise<StatusServer> {
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new ControlPlaneError(ControlPlaneErrorCodes.INVALID_OPTION, `status port ${opts.port} is not a TCP port (0-65535)`);
  }
  const logger = (opts.logger ?? silentLogger).child({ component: 'status-server' });
  const timeoutMs = opts.readinessTimeoutMs ?? 2000;
  const checks = new Map<string, ReadinessCheck>(Object.entries(opts.readinessChecks ?? {}));
  let clients = opts.clients ?? (() => []);
  let problems = opts.problems ?? (() => []);

  const routes = new Map<string, RouteHandler>([
    [
      '/metrics',
      async (_req, res) => send(res, 200, await opts.registry.metrics(), opts.registry.contentType),
    ],
    [
      '/healthz/ready',
      async (_req, res) => {
        const names = [...checks.keys()];
        const results = await Promise.all(names.map((n) => runCheck(checks.get(n)!, timeoutMs)));
        const failing = names.filter((_, i) => !results[i]);
        if (failing.length === 0) send(res, 200, 'ready\n');
        else send(res, 503, `not ready: ${failing.join(', ')}\n`);
      },
    ],
    ['/debug/clients', (_req, res) => sendJson(res, clients())],
    ['/debug/problems', (_req, res) => sendJson(res, problems())],
  ]);

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const handler = routes.get(path);
    if (handler === undefined) return send(res, 404, `no such page: ${path}\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, `${req.method} not allowed; use GET\n`);
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        logger.error({ err, path }, 'status page failed');
        if (!res.headersSent) send(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}\n`);
        else res.destroy();
      });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new ControlPlaneError(
          ControlPlaneErrorCodes.INVALID_OPTION,
          `status server cannot listen on ${opts.host}:${opts.port}: ${err.code ?? err.message}; choose another host or port`,
          { cause: err },
        ),
      );
    };
    server.once('error', onError);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'status server error'));

  const bound = server.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  const urlHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  logger.info(address, 'status server listening');

  let closing: Promise<void> | undefined;
  return {
    address,
    url: `http://${urlHost}:${bound.port}`,
    addReadinessCheck(name, check) {
      checks.set(name, check);
      return () => {
        if (checks.get(name) === check) checks.delete(name);
      };
    },
    setClientsProvider(provider) {
      clients = provider;
    },
    setProblemsProvider(provider) {
      problems = provider;
    },
    route(path, handler) {
      routes.set(path, handler);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections (a Prometheus scraper) would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
