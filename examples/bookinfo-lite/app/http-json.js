// The little bit of HTTP every bookinfo-lite service needs, with Node's standard library only:
// serve JSON routes plus /healthz, and GET JSON from a peer with a deadline.
'use strict';
const http = require('node:http');

/** Who is answering: every response names the service, its version and where it runs. */
function identity(service) {
  return {
    service,
    version: process.env.APP_VERSION || 'v1',
    pod: process.env.POD_NAME || null,
    namespace: process.env.POD_NAMESPACE || null,
    podIP: process.env.POD_IP || null,
    node: process.env.NODE_NAME || null,
  };
}

/** Serves `routes` ({ '/path': async (req) => body }) and /healthz on PORT (default 9080), all addresses. */
function serve(service, routes) {
  const port = Number(process.env.PORT || 9080);
  const server = http.createServer(async (req, res) => {
    const path = (req.url || '/').split('?')[0];
    let status = 200;
    let body;
    if (path === '/healthz') {
      body = { status: 'ok', ...identity(service) };
    } else if (routes[path] !== undefined) {
      try {
        body = { ...identity(service), ...(await routes[path](req)) };
      } catch (err) {
        status = err.status || 500;
        body = { ...identity(service), error: err.message };
      }
    } else {
      status = 404;
      body = { ...identity(service), error: `no route ${path}` };
    }
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(body)}\n`);
  });
  server.listen({ port, host: '::' }, () => {
    console.log(JSON.stringify({ event: 'listening', port, ...identity(service) }));
  });
  // Exit promptly on SIGTERM (the runtime's stop), like a well-behaved container.
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  return server;
}

/**
 * The address of Service `name` from the Kubernetes-style variables the runtime sets
 * (<NAME>_SERVICE_HOST / <NAME>_SERVICE_PORT); undefined when the Service does not exist.
 */
function serviceAddress(name) {
  const key = name.toUpperCase().replace(/-/g, '_');
  const host = process.env[`${key}_SERVICE_HOST`];
  const port = process.env[`${key}_SERVICE_PORT`];
  return host && port ? { host, port: Number(port) } : undefined;
}

/** GET http://<Service name>/<path> as JSON, failing after `timeoutMs`. */
function getJson(serviceName, path, timeoutMs = 2000) {
  const addr = serviceAddress(serviceName);
  if (addr === undefined) return Promise.reject(new Error(`no ${serviceName} Service in this namespace`));
  return new Promise((resolve, reject) => {
    const req = http.get({ host: addr.host, port: addr.port, path, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let body;
        try {
          body = JSON.parse(text);
        } catch {
          return reject(new Error(`${serviceName} answered ${res.statusCode} with non-JSON: ${text.slice(0, 80)}`));
        }
        if (res.statusCode >= 400) return reject(new Error(`${serviceName} answered ${res.statusCode}: ${body.error || text.slice(0, 80)}`));
        resolve(body);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${serviceName} (${addr.host}:${addr.port}) did not answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(new Error(`${serviceName} (${addr.host}:${addr.port}): ${err.code || err.message}`)));
  });
}

/** A peer's answer, or {error} so one failing dependency does not fail the whole page. */
async function tryGetJson(serviceName, path) {
  try {
    return await getJson(serviceName, path);
  } catch (err) {
    return { error: err.message };
  }
}

module.exports = { identity, serve, serviceAddress, getJson, tryGetJson };
