/**
 * The waypoint: Ambit's L7 proxy for the services (and workloads) bound to one waypoint Gateway,
 * wired in one place.
 *
 *   15008 HBONE: mTLS (own identity) -> CONNECT VIP:port -> HTTP/1.1 | HTTP/2 | TCP
 *   HTTP:  receive -> route -> authorize -> filters -> upstream (balance, pool, retry, timeout) -> respond
 *   TCP:   balance -> connect -> relay
 *   upstream: HBONE to mesh endpoints (pooled, multiplexed), plain TCP to others
 *   config (ConfigService, as "<ns>/<name>") -> WaypointView; identity (CertificateService)
 *
 * Start order: identity and config first, then the listeners (a waypoint that cannot prove who it
 * is or does not know its routes takes no traffic). SIGTERM drains: GOAWAY / connection: close,
 * in-flight requests finish until the deadline, then everything closes.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ConfigClient } from '../common/config-client';
import type { ConfigUpdate } from '../common/config-client/options';
import { HbonePool } from '../common/hbone/pool';
import { createHboneServer, type HboneServer } from '../common/hbone/server';
import { CertificateManager } from '../common/identity/certificate-manager';
import type { WorkloadCertificate } from '../common/identity/workload-certificate';
import type { Logger } from '../common/log';
import { parseListenAddress } from '../common/settings/declared-settings';
import { waypointRef, type WaypointConfig } from './config';
import { WaypointError, WaypointErrorCodes } from './errors';
import { HttpFront } from './listener/http-front';
import { sniffProtocol } from './listener/protocol-sniff';
import { proxyTcp } from './listener/tcp-proxy';
import { dispatchTunnel } from './listener/tunnel-dispatch';
import { WaypointView } from './model/waypoint-view';
import type { Exchange } from './pipeline/exchange';
import { RateLimits } from './pipeline/filter-stage';
import { createPipeline, type PipelineDeps } from './pipeline/pipeline';
import { createUpgradeHandler } from './pipeline/upgrade';
import { JwksCache } from './security/jwks-cache';
import { RequestAuthenticator } from './security/request-authentication';
import { UpstreamConnector } from './upstream/connector';
import { UpstreamExchanges } from './upstream/upstream-exchange';
import { UpstreamStates } from './upstream/upstream-state';
import { WaypointTelemetry } from './waypoint-telemetry';

export class Waypoint {
  private view: WaypointView;
  private configSynced = false;
  private draining = false;
  private cert: WorkloadCertificate | undefined;
  private hbone: HboneServer | undefined;
  private plain: net.Server | undefined;
  private readonly ref: { namespace: string; name: string };
  private readonly serviceAccount: string;
  private readonly certs: CertificateManager;
  private readonly pool: HbonePool;
  private readonly config: ConfigClient;
  private readonly states = new UpstreamStates();
  private readonly exchanges: UpstreamExchanges;
  private readonly connector: UpstreamConnector;
  private readonly jwksCache = new JwksCache();
  private readonly authenticators = new WeakMap<object, Map<string, RequestAuthenticator>>();
  private readonly http: HttpFront;
  readonly telemetry: WaypointTelemetry;

  private constructor(
    readonly settings: WaypointConfig,
    private readonly log: Logger,
  ) {
    const s = settings;
    this.ref = waypointRef(s);
    this.serviceAccount = s.serviceAccount || this.ref.name;
    this.view = WaypointView.empty({ ...this.ref, rootNamespace: s.rootNamespace });
    this.telemetry = new WaypointTelemetry(s, log);
    this.certs = new CertificateManager({
      address: s.controlPlane,
      nodeToken: { file: s.tokenFile },
      trustDomain: s.trustDomain,
      validitySeconds: s.certificateValiditySeconds,
      logger: log,
    });
    this.certs.on('rotated', (cert) => {
      this.cert = cert;
      this.hbone?.updateCertificate(cert);
    });
    this.pool = new HbonePool({ maxStreamsPerConnection: s.hboneStreamsPerConnection, idleTimeoutMs: s.hboneIdleTimeoutMs, connectTimeoutMs: s.connectTimeoutMs, logger: log });
    this.connector = new UpstreamConnector({ pool: this.pool, certificate: () => this.cert, connectTimeoutMs: s.connectTimeoutMs });
    this.exchanges = new UpstreamExchanges(this.connector, s.hboneIdleTimeoutMs);
    this.config = new ConfigClient({
      address: s.controlPlane,
      subscription: { waypoint: s.name, clientId: `waypoint ${s.name} pid ${process.pid}`, metricsUrl: () => this.telemetry.metricsUrl },
      accept: (u) => this.applyConfig(u),
      cachePath: path.join(s.stateDir, 'config-snapshot.bin'),
      logger: log,
    });
    const deps: PipelineDeps = {
      view: () => this.view,
      states: this.states,
      exchanges: this.exchanges,
      random: Math.random,
      authenticatorFor: (ex) => this.authenticatorFor(ex),
      rateLimits: new RateLimits(),
      telemetry: this.telemetry,
      logger: log,
      plainPort: 80,
      draining: () => this.draining,
    };
    this.http = new HttpFront({
      maxHeaderBytes: s.maxHeaderBytes,
      headersTimeoutMs: s.headersTimeoutMs,
      idleTimeoutMs: s.idleTimeoutMs,
      onRequest: createPipeline(deps),
      onUpgrade: createUpgradeHandler({ ...deps, connector: this.connector }),
      logger: log,
    });
  }

  static async start(settings: WaypointConfig, log: Logger): Promise<Waypoint> {
    fs.mkdirSync(settings.stateDir, { recursive: true, mode: 0o700 });
    const w = new Waypoint(settings, log);
    try {
      await w.boot();
    } catch (e) {
      await w.close();
      throw e;
    }
    return w;
  }

  /** The HBONE listener's port (tests bind port 0). */
  get hbonePort(): number {
    return (this.hbone?.server.address() as net.AddressInfo | null)?.port ?? 0;
  }

  get plainPort(): number {
    return (this.plain?.address() as net.AddressInfo | null)?.port ?? 0;
  }

  private async boot(): Promise<void> {
    await this.telemetry.startServers({ configDump: () => this.configDump(), connections: () => this.pool.stats().connections as unknown[], readiness: () => this.readiness() });
    await this.config.start();
    this.cert = await this.certs.acquire({ namespace: this.ref.namespace, serviceAccount: this.serviceAccount });
    if (!(await this.config.ready())) throw new WaypointError(WaypointErrorCodes.DRAINING, 'the config client closed before any config arrived');
    const cert = this.certs.current(this.cert.identity.uri) ?? this.cert;
    this.hbone = createHboneServer({
      certificate: cert,
      trustDomains: [this.settings.trustDomain],
      onTunnel: (req) => {
        if (this.draining) return req.reject(503, 'the waypoint is draining; retry');
        return dispatchTunnel({ view: () => this.view, http: this.http, tcp: (stream, ctx) => void proxyTcp({ view: () => this.view, states: this.states, connector: this.connector, logger: this.log }, stream, ctx), logger: this.log }, req);
      },
      logger: this.log.child({ listener: 'hbone' }),
    });
    await this.hbone.listen(parseListenAddress('hboneListen', this.settings.hboneListen));
    if (this.settings.plainListen) {
      const plain = net.createServer({ noDelay: true }, (sock) => void this.acceptPlain(sock));
      const at = parseListenAddress('plainListen', this.settings.plainListen);
      await new Promise<void>((resolve, reject) => {
        plain.once('error', reject);
        plain.listen({ host: at.host, port: at.port }, () => {
          plain.off('error', reject);
          resolve();
        });
      });
      plain.on('error', (e) => this.log.warn({ err: e.message }, 'plain listener error'));
      this.plain = plain;
    }
    this.log.info(
      { waypoint: this.settings.name, identity: cert.identity.uri, hbone: this.hbonePort, plain: this.plain ? this.plainPort : undefined, version: this.view.version },
      'waypoint started',
    );
  }

  private async acceptPlain(sock: net.Socket): Promise<void> {
    // A client may reset at any point (while sniffing, during an upgrade's awaits): never a crash.
    sock.on('error', (e) => this.log.debug({ err: e.message }, 'plain listener connection error'));
    const ctx = { peer: { address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 }, mtls: false };
    const p = await sniffProtocol(sock, this.settings.headersTimeoutMs);
    if (p === 'tcp') return void sock.destroy();
    this.http.accept(sock, p, ctx);
  }

  private applyConfig(u: ConfigUpdate): void {
    const next = new WaypointView(u.version, u.resources.values(), { ...this.ref, rootNamespace: this.settings.rootNamespace });
    this.view = next;
    this.configSynced = true;
    this.states.retain(next);
    this.exchanges.retain(next.endpointKeys());
    this.telemetry.configChanged();
    this.log.info(
      { version: u.version, source: u.source, services: next.services.size, routes: next.routes.length, workloads: next.workloads.size, authorizations: next.authorizations.length },
      'config applied',
    );
  }

  /** One authenticator per (config version, service): its JWKS cache is shared across versions. */
  private authenticatorFor(ex: Exchange): RequestAuthenticator {
    let perView = this.authenticators.get(ex.view);
    if (!perView) {
      perView = new Map();
      this.authenticators.set(ex.view, perView);
    }
    const key = ex.service ? `${ex.service.namespace}/${ex.service.name}` : '';
    let a = perView.get(key);
    if (!a) {
      a = new RequestAuthenticator(ex.view.requestAuthenticationsFor(ex.service), { cache: this.jwksCache, logger: this.log });
      perView.set(key, a);
    }
    return a;
  }

  private readiness(): Array<{ name: string; ok: boolean; detail?: string }> {
    return [
      { name: 'config', ok: this.configSynced, detail: this.configSynced ? `version ${this.view.version}` : 'no config from the control plane yet' },
      { name: 'certificate', ok: this.cert !== undefined, detail: this.cert ? this.cert.identity.uri : 'no certificate yet' },
      { name: 'listeners', ok: this.hbone !== undefined, detail: this.hbone ? `hbone :${this.hbonePort}` : 'not listening yet' },
      { name: 'draining', ok: !this.draining, detail: this.draining ? 'draining' : undefined },
    ];
  }

  configDump(): unknown {
    const v = this.view;
    return {
      waypoint: this.settings.name,
      identity: this.cert?.identity.uri,
      certificate: this.cert ? { notAfter: this.cert.notAfter.toISOString() } : undefined,
      version: v.version,
      services: [...v.services.values()].map((s) => ({ name: `${s.namespace}/${s.name}`, hostname: s.hostname, vips: s.vips, ports: s.ports, endpoints: s.endpoints.length })),
      routes: v.routes.map((r) => ({ name: `${r.namespace}/${r.name}`, kind: r.kind, parents: r.parents, rules: r.rules.length })),
      authorizations: v.authorizations.map((a) => `${a.namespace}/${a.name}`),
      requestAuthentications: v.requestAuthentications.map((a) => `${a.namespace}/${a.name}`),
      destinationPolicies: [...v.destinationPolicies.values()].map((d) => ({ name: `${d.namespace}/${d.name}`, host: d.host })),
      upstreams: this.states.snapshot(),
      requests: this.telemetry.counts,
      hbone: this.hbone?.stats(),
    };
  }

  /** Stop taking requests, let in-flight ones finish until the deadline, then close. */
  async drain(): Promise<void> {
    this.draining = true;
    this.http.drain();
    this.plain?.close();
    const deadline = Date.now() + this.settings.drainTimeoutMs;
    const hboneDone = this.hbone?.drain(this.settings.drainTimeoutMs);
    while (Date.now() < deadline && this.http.openConnections > 0) await new Promise((r) => setTimeout(r, 50));
    await hboneDone;
  }

  async close(): Promise<void> {
    this.draining = true;
    this.http.closeAll();
    this.plain?.close();
    await this.hbone?.close();
    this.exchanges.close();
    await this.pool.close();
    this.config.close();
    this.certs.close();
    await this.telemetry.close();
  }
}
