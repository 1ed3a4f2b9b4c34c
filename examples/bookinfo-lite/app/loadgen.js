// loadgen: steady traffic to productpage (RATE requests per second, default 5) over keep-alive
// connections, like a browser would make, so the mesh always has live traffic to show. Every 10 s
// it prints one JSON line with what it got.
'use strict';
const http = require('node:http');
const { serviceAddress } = require('./http-json');

const rate = Number(process.env.RATE || 5);
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
let window = { ok: 0, failed: 0, statuses: {} };

function once() {
  const addr = serviceAddress('productpage');
  if (addr === undefined) return;
  const req = http.get({ host: addr.host, port: addr.port, path: '/', agent, timeout: 5000 }, (res) => {
    res.resume();
    res.on('end', () => {
      window.statuses[res.statusCode] = (window.statuses[res.statusCode] || 0) + 1;
      if (res.statusCode < 500) window.ok++;
      else window.failed++;
    });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => window.failed++);
}

const timer = setInterval(once, 1000 / rate);
const report = setInterval(() => {
  console.log(JSON.stringify({ event: 'traffic', rate, ...window }));
  window = { ok: 0, failed: 0, statuses: {} };
}, 10_000);
process.on('SIGTERM', () => {
  clearInterval(timer);
  clearInterval(report);
  agent.destroy();
  process.exit(0);
});
