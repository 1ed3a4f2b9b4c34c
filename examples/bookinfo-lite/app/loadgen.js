// loadgen: steady traffic to productpage (RATE requests per second, default 5) over keep-alive
// connections, like a browser would make, so the mesh always has live traffic to show. Every 10 s
// it prints one JSON line with what it got.
'use strict';
const http = require('node:http');
const { serviceAddress } = require('./http-json');

const rate = Number(process.env.RATE || 5);
if (!(rate > 0 && rate <= 1000)) {
  console.error(`loadgen: RATE must be a number of requests per second in (0, 1000], not "${process.env.RATE}"`);
  process.exit(2);
}
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
// At most this many requests outstanding: a stalled product page is not buried under a queue.
const MAX_IN_FLIGHT = 16;
let inFlight = 0;
let window = { ok: 0, failed: 0, skipped: 0, statuses: {} };

function once() {
  const addr = serviceAddress('productpage');
  if (addr === undefined) return;
  if (inFlight >= MAX_IN_FLIGHT) {
    window.skipped++;
    return;
  }
  inFlight++;
  const req = http.get({ host: addr.host, port: addr.port, path: '/', agent, timeout: 5000 }, (res) => {
    res.resume();
    res.on('end', () => {
      window.statuses[res.statusCode] = (window.statuses[res.statusCode] || 0) + 1;
      if (res.statusCode < 400) window.ok++;
      else window.failed++;
    });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => window.failed++);
  req.on('close', () => inFlight--);
}

const timer = setInterval(once, 1000 / rate);
const report = setInterval(() => {
  console.log(JSON.stringify({ event: 'traffic', rate, ...window }));
  window = { ok: 0, failed: 0, skipped: 0, statuses: {} };
}, 10_000);
process.on('SIGTERM', () => {
  clearInterval(timer);
  clearInterval(report);
  agent.destroy();
  process.exit(0);
});
