/**
 * The agent's admin server, localhost only by default (ztunnel's and Envoy's 15000):
 *   GET  /                   index of endpoints
 *   GET  /config_dump        the configuration the agent is running with (JSON)
 *   GET  /debug/connections  open proxied connections (JSON)
 *   GET  /debug/resources    node and agent resource snapshot (JSON), when a source is given
 *   GET  /logging            current log level; POST /logging?level=debug changes it
 * Anything else is a JSON 404. It binds 127.0.0.1 because POST changes behaviour and the dumps name
 * every workload on the node; a POST carrying an Origin header (a browser page) is refused so a
 * web page cannot change the level through a user's browser.
 */
import type http from 'node:http';
import { isLogLevel, LOG_LEVELS, type LogLevel, type Logger } from '../log';
import { Ports } from '../ports';
import { sendJson, startHttpEndpoint, type HttpEndpoint, type ListenOptions, type Route } from './http-server';

export interface AdminSources {
  configDump(): unknown;
  connections(): unknown[] | Promise<unknown[]>;
  logLevel(): string;
  setLogLevel(level: LogLevel): void;
  /** Node resource snapshot (node-resources.ts); /debug/resources is absent without it. */
  resources?(): unknown;
}

export interface AdminServerOptions extends Partial<ListenOptions> {
  sources: AdminSources;
  logger?: Logger;
}

export const ADMIN_DEFAULT_HOST = '127.0.0.1';

function loggingRoute(sources: AdminSources): Route {
  return {
    description: 'GET shows the log level; POST ?level=<level> sets it',
    methods: ['GET', 'POST'],
    handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL) {
      const level = url.searchParams.get('level');
      if (req.method !== 'POST') {
        if (level !== null) {
          return sendJson(res, 400, { error: 'GET only shows the level; use POST /logging?level=<level> to change it' });
        }
        return sendJson(res, 200, { level: sources.logLevel() });
      }
      if (req.headers.origin !== undefined) {
        return sendJson(res, 403, { error: 'requests from a web page may not change the log level' });
      }
      if (level === null || !isLogLevel(level)) {
        const what = level === null ? 'missing ?level=' : `unknown log level "${level}"`;
        return sendJson(res, 400, { error: `${what}; use one of ${LOG_LEVELS.join(', ')}`, allowed: LOG_LEVELS });
      }
      const previous = sources.logLevel();
      sources.setLogLevel(level);
      return sendJson(res, 200, { level: sources.logLevel(), previous });
    },
  };
}

export function adminRoutes(sources: AdminSources): Map<string, Route> {
  const routes = new Map<string, Route>();
  routes.set('/', {
    description: 'this index',
    handle: (_req, res) =>
      sendJson(res, 200, {
        endpoints: [...routes].map(([path, r]) => ({ path, methods: r.methods ?? ['GET'], description: r.description })),
      }),
  });
  routes.set('/config_dump', {
    description: 'workloads, services, policies and certificates the agent is running with',
    handle: async (_req, res) => sendJson(res, 200, await sources.configDump()),
  });
  routes.set('/debug/connections', {
    description: 'open proxied connections',
    handle: async (_req, res) => {
      const connections = await sources.connections();
      sendJson(res, 200, { count: connections.length, connections });
    },
  });
  const resources = sources.resources?.bind(sources);
  if (resources !== undefined) {
    routes.set('/debug/resources', {
      description: 'node CPU, memory and load, and the agent process RSS and CPU seconds',
      handle: (_req, res) => {
        const snap = resources();
        if (snap === undefined) return sendJson(res, 503, { error: 'no sample yet; try again in a few seconds' });
        return sendJson(res, 200, snap);
      },
    });
  }
  routes.set('/logging', loggingRoute(sources));
  return routes;
}

export function startAdminServer(opts: AdminServerOptions): Promise<HttpEndpoint> {
  return startHttpEndpoint(
    'admin',
    { host: opts.host ?? ADMIN_DEFAULT_HOST, port: opts.port ?? Ports.admin },
    adminRoutes(opts.sources),
    opts.logger,
  );
}

/**
 * AdminSources' log-level half over pino loggers: the first (the root) is read, all are set. Pino
 * children follow their parent's level unless one was given to them; pass those ones too.
 */
export function pinoLevelControl(...loggers: [Logger, ...Logger[]]): Pick<AdminSources, 'logLevel' | 'setLogLevel'> {
  return {
    logLevel: () => loggers[0].level,
    setLogLevel(level) {
      for (const l of loggers) l.level = level;
    },
  };
}
