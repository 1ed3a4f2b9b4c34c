// The Ambit dashboard page: polls /dashboard/api/graph every 2 s and draws what it says. The
// server computes positions and numbers (control-plane/dashboard/graph-document.ts); this file
// only renders them as SVG and tables. No framework, no network beyond this server.
'use strict';
(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const POLL_MS = 2000;
  const graph = document.getElementById('graph');
  const statusEl = document.getElementById('status');
  const detailsEl = document.getElementById('details');
  const proxiesBody = document.querySelector('#proxies tbody');
  const emptyEl = document.getElementById('empty');
  let doc = null;
  // "#<node id>" (e.g. #wl:shop/web-v1) opens the page with that node's details.
  // A hand-typed or truncated hash (e.g. "#%E0") must not stop the page from starting.
  const fromHash = () => {
    try {
      return decodeURIComponent(location.hash.slice(1)) || null;
    } catch {
      return null;
    }
  };
  let selected = fromHash();

  function el(ns, tag, attrs, text) {
    const e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const svg = (tag, attrs, text) => el(SVG, tag, attrs, text);
  const html = (tag, attrs, text) => el(null, tag, attrs, text);

  function fmtRate(n) {
    if (n >= 100) return n.toFixed(0);
    if (n >= 10) return n.toFixed(1);
    return n.toFixed(2);
  }
  function fmtMs(n) {
    return n >= 10 ? n.toFixed(0) : n.toFixed(1);
  }
  function fmtBytes(n) {
    if (n === undefined) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return `${n.toFixed(n >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
  }
  const pct = (n) => (n === undefined ? '–' : `${(n * 100).toFixed(n < 0.1 ? 1 : 0)}%`);
  function ago(iso) {
    if (!iso) return 'never';
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    return s < 1 ? 'just now' : `${s.toFixed(0)} s ago`;
  }

  /** "N rps · E% err · p99 X ms" (p99 n/a for TCP, which has no histogram). */
  function edgeLabel(e) {
    const err = e.errorRate === null ? '–' : `${(e.errorRate * 100).toFixed(e.errorRate > 0 && e.errorRate < 0.1 ? 1 : 0)}%`;
    const p99 = e.p99Ms === null ? 'n/a' : `${fmtMs(e.p99Ms)} ms`;
    return `${fmtRate(e.rps)} rps · ${err} err · p99 ${p99}`;
  }

  function drawEdges(layer, nodes, edges, w, h) {
    // Edges joining the same two nodes (HTTP and TCP) are drawn side by side.
    const lanes = new Map();
    for (const e of edges) lanes.set(`${e.from}|${e.to}`, (lanes.get(`${e.from}|${e.to}`) || 0) + 1);
    const used = new Map();
    for (const e of edges) {
      const a = nodes.get(e.from);
      const b = nodes.get(e.to);
      if (!a || !b) continue;
      const pair = `${e.from}|${e.to}`;
      const lane = used.get(pair) || 0;
      used.set(pair, lane + 1);
      const off = (lane - (lanes.get(pair) - 1) / 2) * 16;
      const x1 = a.x + w, y1 = a.y + h / 2 + off / 2, x2 = b.x, y2 = b.y + h / 2 + off / 2;
      const back = x2 <= x1;
      const dx = back ? 120 : Math.max(40, (x2 - x1) / 2);
      const d = back
        ? `M ${x1} ${y1} C ${x1 + dx} ${y1 - 60}, ${x2 - dx} ${y2 - 60}, ${x2} ${y2}`
        : `M ${x1} ${y1} C ${x1 + dx} ${y1}, ${x2 - dx} ${y2}, ${x2} ${y2}`;
      const live = e.rps > 0;
      const health = e.errorRate === null || e.errorRate === 0 ? '' : e.errorRate >= 0.05 ? ' bad' : ' warn';
      const g = svg('g', {
        class: `edge ${e.protocol}${live ? health : ' idle'}`,
        'data-from': e.from,
        'data-to': e.to,
        'data-protocol': e.protocol,
        'data-rps': e.rps.toFixed(3),
        'data-error-rate': e.errorRate === null ? '' : e.errorRate.toFixed(4),
        'data-p99-ms': e.p99Ms === null ? '' : e.p99Ms.toFixed(2),
      });
      const width = live ? Math.min(6, 1.5 + Math.log10(1 + e.rps) * 2) : 1.2;
      g.appendChild(svg('path', { d, 'stroke-width': width.toFixed(2), 'marker-end': 'url(#arrow)' }));
      if (live) {
        const mx = (x1 + x2) / 2, my = (y1 + y2) / 2 - (back ? 45 : 0) + off;
        const text = edgeLabel(e);
        const tw = text.length * 5.6 + 8;
        g.appendChild(svg('rect', { class: 'label-bg', x: mx - tw / 2, y: my - 15, width: tw, height: 14, rx: 3 }));
        g.appendChild(svg('text', { class: 'label', x: mx, y: my - 5, 'text-anchor': 'middle' }, text));
      }
      g.appendChild(svg('title', {}, `${e.from} → ${e.to} (${e.protocol}), ${e.total} in total`));
      layer.appendChild(g);
    }
  }

  function drawNodes(layer, nodes, w, h, busy) {
    for (const n of nodes.values()) {
      const g = svg('g', { class: `node ${n.kind}${busy.has(n.id) ? '' : ' idle'}${selected === n.id ? ' selected' : ''}`, 'data-id': n.id, 'data-kind': n.kind, tabindex: 0 });
      g.appendChild(svg('rect', { x: n.x, y: n.y, width: w, height: h, rx: n.kind === 'service' ? h / 2 : 6 }));
      const name = n.name.length > 24 ? `${n.name.slice(0, 23)}…` : n.name;
      g.appendChild(svg('text', { class: 'name', x: n.x + w / 2, y: n.y + 17, 'text-anchor': 'middle' }, name));
      const sub = n.kind === 'external' ? '' : `${n.kind === 'service' ? 'svc' : 'wl'} · ${n.namespace}${n.service && n.service.waypoint ? ' · waypoint' : ''}`;
      g.appendChild(svg('text', { class: 'sub', x: n.x + w / 2, y: n.y + 31, 'text-anchor': 'middle' }, sub));
      g.appendChild(svg('title', {}, n.id));
      const show = () => showDetails(n.id);
      g.addEventListener('mouseenter', show);
      g.addEventListener('focus', show);
      g.addEventListener('click', () => {
        selected = selected === n.id ? null : n.id;
        history.replaceState(null, '', selected ? `#${encodeURIComponent(selected)}` : location.pathname);
        render();
      });
      layer.appendChild(g);
    }
  }

  function renderGraph() {
    const { layout } = doc;
    const w = layout.nodeWidth, h = layout.nodeHeight;
    graph.replaceChildren();
    graph.setAttribute('width', layout.width);
    graph.setAttribute('height', layout.height);
    graph.setAttribute('viewBox', `0 0 ${layout.width} ${layout.height}`);
    const defs = svg('defs');
    const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse', markerUnits: 'userSpaceOnUse' });
    marker.appendChild(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#7b8494' }));
    defs.appendChild(marker);
    graph.appendChild(defs);
    const nodes = new Map(doc.nodes.map((n) => [n.id, n]));
    const busy = new Set(doc.edges.flatMap((e) => [e.from, e.to]));
    const edgeLayer = svg('g', { id: 'edges' });
    const nodeLayer = svg('g', { id: 'nodes' });
    graph.appendChild(edgeLayer);
    graph.appendChild(nodeLayer);
    drawEdges(edgeLayer, nodes, doc.edges, w, h);
    drawNodes(nodeLayer, nodes, w, h, busy);
    emptyEl.hidden = doc.nodes.length > 0;
  }

  function row(dl, term, value) {
    dl.appendChild(html('dt', {}, term));
    const dd = html('dd');
    if (value instanceof Node) dd.appendChild(value);
    else dd.textContent = value;
    dl.appendChild(dd);
  }

  function showDetails(id) {
    const n = doc && doc.nodes.find((x) => x.id === id);
    detailsEl.replaceChildren(html('h2', {}, 'Details'));
    if (!n) {
      detailsEl.appendChild(html('p', { class: 'hint' }, 'Hover over or click a workload or service.'));
      return;
    }
    detailsEl.appendChild(html('h3', {}, `${n.kind === 'service' ? 'Service' : n.kind === 'workload' ? 'Workload' : ''} ${n.namespace ? `${n.namespace}/` : ''}${n.name}`));
    const dl = html('dl', { 'data-id': n.id });
    if (n.workload) {
      const wl = n.workload;
      const ids = html('div');
      for (const i of wl.identities) ids.appendChild(html('code', { class: 'identity' }, i));
      row(dl, 'identity', ids);
      row(dl, 'mesh', wl.ambient ? 'ambient (captured by the node agent)' : 'not in the mesh');
      if (wl.waypoint) row(dl, 'waypoint', wl.waypoint);
      row(dl, 'pods', wl.pods.map((p) => `${p.name} on ${p.node} (${p.addresses.join(', ')})${p.ready ? '' : ' not ready'}`).join('\n'));
      const ul = html('ul', { class: 'policies' });
      for (const p of wl.policies) ul.appendChild(html('li', { 'data-policy': p.name }, `${p.kind} ${p.name}: ${p.effect}`));
      row(dl, 'policies', wl.policies.length > 0 ? ul : 'none apply (traffic is allowed; mTLS PERMISSIVE)');
    } else if (n.service) {
      const s = n.service;
      row(dl, 'hostname', s.hostname);
      row(dl, 'addresses', s.addresses.join(', ') || 'headless');
      row(dl, 'ports', s.ports.join(', '));
      row(dl, 'endpoints', `${s.endpoints} ready`);
      row(dl, 'waypoint', s.waypoint || 'none (L4 only)');
    } else {
      row(dl, 'what', 'clients or servers the mesh does not know (no workload identity)');
    }
    const edgesIn = doc.edges.filter((e) => e.to === id), edgesOut = doc.edges.filter((e) => e.from === id);
    const traffic = (list, dir) => list.map((e) => `${dir} ${dir === '←' ? e.from : e.to}: ${edgeLabel(e)}`).join('\n') || 'none';
    row(dl, 'inbound', traffic(edgesIn, '←'));
    row(dl, 'outbound', traffic(edgesOut, '→'));
    detailsEl.appendChild(dl);
  }

  function renderProxies() {
    proxiesBody.replaceChildren();
    for (const p of doc.proxies) {
      const r = p.resources || {};
      const tr = html('tr', { 'data-kind': p.kind, 'data-name': p.name, 'data-status': p.status });
      const who = html('td');
      who.appendChild(html('div', { class: 'proxy-name' }, `${p.kind} ${p.name}`));
      who.appendChild(html('span', { class: `pill ${p.status.replace(' ', '-')}` }, p.status));
      who.appendChild(html('div', { class: 'muted' }, p.lastScrapeAt ? `scraped ${ago(p.lastScrapeAt)}` : 'not scraped'));
      tr.appendChild(who);
      const lines = [];
      if (r.nodeCpu !== undefined) lines.push(`node CPU ${pct(r.nodeCpu)} · load ${r.nodeLoad1 === undefined ? '–' : r.nodeLoad1.toFixed(2)}`);
      if (r.nodeMemoryTotalBytes !== undefined) lines.push(`node memory ${fmtBytes(r.nodeMemoryUsedBytes)} / ${fmtBytes(r.nodeMemoryTotalBytes)}`);
      if (r.processRssBytes !== undefined) lines.push(`${p.kind} RSS ${fmtBytes(r.processRssBytes)} · CPU ${r.processCpu === undefined ? '–' : `${(r.processCpu * 100).toFixed(1)}%`}`);
      if (p.detail) lines.push(p.detail);
      tr.appendChild(html('td', { class: p.detail ? 'multi detail' : 'multi' }, lines.join('\n') || '–'));
      proxiesBody.appendChild(tr);
    }
  }

  function render() {
    if (!doc) return;
    renderGraph();
    renderProxies();
    if (selected) showDetails(selected);
    const live = doc.edges.filter((e) => e.rps > 0).length;
    statusEl.className = 'status';
    statusEl.textContent = `updated ${new Date(doc.generatedAt).toLocaleTimeString()} · ${live} live edges · ${doc.scrape.healthy}/${doc.scrape.targets} proxies scraped every ${doc.scrape.intervalMs / 1000} s, rates over ${doc.scrape.windowMs / 1000} s${doc.hiddenIdleNodes ? ` · ${doc.hiddenIdleNodes} idle nodes hidden` : ''}`;
  }

  async function poll() {
    try {
      const res = await fetch('/dashboard/api/graph', { cache: 'no-store' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      doc = await res.json();
      render();
    } catch (err) {
      statusEl.className = 'status bad';
      statusEl.textContent = `control plane unreachable (${err.message}); showing the last data, retrying`;
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }
  poll();
})();
