/**
 * The walkthrough's measuring client: a Node script run inside a pod (so its connections are
 * captured and carry the pod's identity) that sends `count` GETs to a URL, `concurrency` at a
 * time over keep-alive connections, and prints one JSON line with every outcome.
 */
import type { DemoMesh } from './demo-mesh';

/** argv: url, count, concurrency. */
const REQUESTS_JS = `'use strict';
const http = require('node:http');
const [url, count, concurrency] = process.argv.slice(1);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const results = [];
let next = 0;
const one = () => new Promise((resolve) => {
  const t = process.hrtime.bigint();
  const done = (r) => { r.ms = Number(process.hrtime.bigint() - t) / 1e6; results.push(r); resolve(); };
  const req = http.get(url, { agent, timeout: 10000 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d) => (body += d));
    res.on('end', () => {
      let json;
      try { json = JSON.parse(body); } catch {}
      done({ status: res.statusCode, version: json && json.version, pod: json && json.pod, route: res.headers['x-route'],
        reviews: json && json.reviews && json.reviews.version, details: json && json.details && !json.details.error,
        body: json ? undefined : body.slice(0, 120) });
    });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => done({ error: e.code || e.message }));
});
(async () => {
  const worker = async () => { while (next < Number(count)) { next++; await one(); } };
  await Promise.all(Array.from({ length: Number(concurrency) }, worker));
  agent.destroy();
  console.log(JSON.stringify({ results }));
})();
`;

export interface Outcome {
  status?: number;
  /** The answering service's version (bookinfo-lite names itself in every answer). */
  version?: string;
  pod?: string;
  /** The x-route response header the walkthrough's routes set. */
  route?: string;
  /** productpage only: which reviews version answered, and whether details did. */
  reviews?: string;
  details?: boolean;
  /** Non-JSON body (e.g. "RBAC: access denied"). */
  body?: string;
  error?: string;
  ms?: number;
}

export async function requestsFrom(mesh: DemoMesh, pod: string, url: string, count: number, concurrency = 4): Promise<Outcome[]> {
  const r = await mesh.script<{ results: Outcome[] }>(pod, REQUESTS_JS, [url, String(count), String(concurrency)]);
  return r.results;
}

/** Polls with small batches until `ok(outcomes)` holds; returns the milliseconds it took. */
export async function untilOutcome(
  what: string,
  probe: () => Promise<Outcome[]>,
  ok: (outcomes: Outcome[]) => boolean,
  timeoutMs = 30_000,
): Promise<number> {
  const t0 = Date.now();
  let last: Outcome[] = [];
  while (Date.now() - t0 < timeoutMs) {
    last = await probe();
    if (ok(last)) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not happen within ${timeoutMs / 1000} s; last answers: ${JSON.stringify(last.slice(0, 3))}`);
}
