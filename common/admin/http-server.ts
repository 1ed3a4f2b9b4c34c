/**
 * The small node:http listener the agent's admin, metrics and readiness servers share: a fixed route
 * table, GET/HEAD (and POST where a route takes it), JSON errors, a typed error when the port cannot
 * be bound, and a close() that does not wait for a scraper's keep-alive connection.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AmbitError, ErrorCodes } from '../errors';
import { silentLogger, type Logger } from '../log';

export type RouteMethod = 'GET' | 'POST';

export interface Route {
  /** One line for the admin index. */
  description: string;
  /** GET also answers HEAD. Default ['GET']. */
  methods?: readonly RouteMethod[];
  handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void | Promise<void>;
}

export interface ListenOptions {
  /** Interface to listen on, e.g. 127.0.0.1 or 0.0.0.0. */
  host: string;
  /** 0 = any free port (see `address`). */
  port: number;
}

export interface HttpEndpoint {
  readonly address: { host: string; port: number };
  /** http://host:port */
  readonly url: string;
  /** Stops listening and drops idle keep-alive connections. Idempotent. */
  close(): Promise<void>;
}

export function sendText(res: http.ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

export function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  sendText(res, status, `${JSON.stringify(value, null, 2)}\n`, 'application/json; charset=utf-8');
}

export function checkListenOptions(name: string, opts: ListenOptions): void {
  if (typeof opts.host !== 'string' || opts.host === '') {
    throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `${name} server host is empty; use e.g. 127.0.0.1 or 0.0.0.0`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new AmbitError(ErrorCodes.INVALID_ARGUMENT, `${name} server port ${opts.port} is not a TCP port (0-65535)`);
  }
}

/** Starts a server answering `routes` (path -> route); resolves once it listens. */
export async function startHttpEndpoint(
  name: string,
  listen: ListenOptions,
  routes: ReadonlyMap<string, Route>,
  logger: Logger = silentLogger,
): Promise<HttpEndpoint> {
  checkListenOptions(name, listen);
  const log = logger.child({ component: `${name}-server` });

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routes.get(url.pathname);
    if (route === undefined) {
      return sendJson(res, 404, { error: `no such endpoint: ${url.pathname}`, endpoints: [...routes.keys()] });
    }
    const methods = route.methods ?? ['GET'];
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (!methods.includes(method as RouteMethod)) {
      const allow = methods.includes('GET') ? [...methods, 'HEAD'] : [...methods];
      res.setHeader('allow', allow.join(', '));
      return sendJson(res, 405, { error: `${req.method} not allowed on ${url.pathname}; use ${allow.join(' or ')}` });
    }
    Promise.resolve()
      .then(() => route.handle(req, res, url))
      .catch((err: unknown) => {
        log.error({ err, path: url.pathname }, 'endpoint failed');
        if (!res.headersSent) {
          sendJson(res, 500, { error: `internal error: ${err instanceof Error ? err.message : String(err)}` });
        } else {
          res.destroy();
        }
      });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new AmbitError(
          ErrorCodes.INVALID_ARGUMENT,
          `${name} server cannot listen on ${listen.host}:${listen.port}: ${err.code ?? err.message}; choose another host or port`,
          { cause: err },
        ),
      );
    };
    server.once('error', onError);
    server.listen({ host: listen.host, port: listen.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, `${name} server error`));

  const bound = server.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  const urlHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  log.info(address, `${name} server listening`);

  let closing: Promise<void> | undefined;
  return {
    address,
    url: `http://${urlHost}:${bound.port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections (a Prometheus scraper, a kubelet) would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
