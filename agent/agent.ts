/**
 * ambit-agent: the node's L4 data plane, wired in one place.
 *
 *   enrollment socket -> PodRegistry -> PodRuntime per pod (listeners in the pod, capture)
 *   15001 outbound:  accept -> originalDestination -> identify -> plan -> tunnel -> copy
 *   15008 HBONE:     TLS (pod cert) -> CONNECT -> authorize -> dial app -> 200 -> copy
 *   15006 plaintext: PeerAuthentication -> authorize -> dial app -> copy
 *   config (ConfigService) -> MeshView -> re-authorize open connections, DNS table
 *   identities (CertificateService) -> pod HBONE servers, outbound tunnels
 *
 * Start order: capture programs, then config and identities, then the enrollment socket (pods are
 * accepted only once the agent can carry their traffic). Drain on SIGTERM: stop taking pods and
 * connections, let open ones finish until the deadline, then close.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigClient } from '../common/config-client';
import type { ConfigUpdate } from '../common/config-client/options';
import { HbonePool } from '../common/hbone/pool';
import { createHboneServer, type HboneServer } from '../common/hbone/server';
import type { WorkloadCertificate } from '../common/identity/workload-certificate';
import type { Logger } from '../common/log';
import { CaptureDatapath } from './capture/capture-programs';
import { BpfOrigDstLookup } from './capture/orig-dst';
import { PodEnrollments } from './capture/pod-enrollment';
import type { AgentConfig } from './config';
import { AgentDns } from './agent-dns';
import { CniPodResolver, type WorkloadSource } from './enrollment/cni-pod-resolver';
import { EnrollmentServer } from './enrollment/enrollment-server';
import { AgentError, AgentErrorCodes } from './errors';
import { CertificateManager } from '../common/identity/certificate-manager';
import { MeshView } from './model/mesh-view';
import { PodRegistry } from './pods/pod-registry';
import type { PodServing } from './pods/pod-runtime';
import { MeshInboundPolicy } from './policy/inbound-policy';
import { markClosed } from './proxy/carry';
import { ConnectionTable } from './proxy/connection-table';
import { handleHboneTunnel } from './proxy/inbound-hbone';
import { handlePlaintextInbound } from './proxy/inbound-plaintext';
import type { LocalPod } from './proxy/local-pod';
import { handleOutbound, type OutboundDeps } from './proxy/outbound';
import { RoundRobin } from './proxy/round-robin';
import { HboneTunnels } from './proxy/tunnels';
import { AgentTelemetry } from './agent-telemetry';

export class Agent {
  private view = MeshView.empty();
  private configSynced = false;
  private draining = false;
  private readonly table = new ConnectionTable();
  private readonly balancer = new RoundRobin();
  private readonly certs: CertificateManager;
  private readonly pool: HbonePool;
  private readonly config: ConfigClient;
  private readonly pods: PodRegistry;
  private readonly enrollment: EnrollmentServer;
  private readonly dns: AgentDns;
  readonly telemetry: AgentTelemetry;
  private readonly podCerts = new Map<string, Promise<WorkloadCertificate>>();
  /** Called after each config version is applied (cni_add waits on them for a pod's workload). */
  private readonly configListeners = new Set<() => void>();

  private constructor(
    readonly settings: AgentConfig,
    private readonly log: Logger,
    private readonly datapath: CaptureDatapath,
  ) {
    const s = settings;
    this.telemetry = new AgentTelemetry(log, () => this.view);
    this.certs = new CertificateManager({
      address: s.controlPlane,
      nodeToken: { file: s.tokenFile },
      trustDomain: s.trustDomain,
      validitySeconds: s.certificateValiditySeconds,
      logger: log,
    });
    this.certs.on('rotated', (cert) => this.onRotated(cert));
    this.pool = new HbonePool({
      maxStreamsPerConnection: s.hboneStreamsPerConnection,
      idleTimeoutMs: s.hboneIdleTimeoutMs,
      connectTimeoutMs: s.connectTimeoutMs,
      logger: log,
    });
    this.config = new ConfigClient({
      address: s.controlPlane,
      subscription: { node: s.node, clientId: `agent ${s.node} pid ${process.pid}`, metricsUrl: () => this.telemetry.metricsUrl },
      accept: (u) => this.applyConfig(u),
      cachePath: path.join(s.stateDir, 'config-snapshot.bin'),
      logger: log,
    });
    this.dns = new AgentDns(s, log, () => this.view);
    const deps = this.proxyDeps();
    const serving: PodServing = {
      outbound: (pod, socket) => void handleOutbound(deps, pod, socket).catch((e: Error) => log.error({ err: e, pod: pod.name }, 'outbound handler failed')),
      plaintext: (pod, socket) => handlePlaintextInbound(deps, pod, socket),
      certificate: (pod) => this.certificateFor(pod),
      hboneServer: (pod, cert) => this.hboneServer(deps, pod, cert),
      extras: (pod, netnsFd) => this.dns.addPod(pod, netnsFd),
    };
    this.pods = new PodRegistry({
      enrollments: new PodEnrollments(datapath),
      serving,
      table: this.table,
      trustDomain: s.trustDomain,
      podDrainMs: Math.min(s.drainTimeoutMs, 5_000),
      logger: log,
      onChange: () => this.telemetry.metrics.setEnrolledPods(this.pods.list().length),
      onRemoved: (pod) => this.forgetPod(pod),
    });
    const workloads: WorkloadSource = {
      node: s.node,
      version: () => this.view.version,
      podWorkload: (namespace, name) => this.view.workloadNamed(namespace, name),
      onConfig: (listener) => {
        this.configListeners.add(listener);
        return () => this.configListeners.delete(listener);
      },
    };
    this.enrollment = new EnrollmentServer({
      socketPath: s.enrollmentSocket,
      handler: this.pods,
      logger: log,
      node: s.node,
      cni: new CniPodResolver(workloads),
    });
  }

  static async start(settings: AgentConfig, log: Logger): Promise<Agent> {
    fs.mkdirSync(settings.stateDir, { recursive: true, mode: 0o700 });
    const datapath = await CaptureDatapath.load({
      cgroupRoot: settings.cgroupRoot,
      pinDir: settings.pinDir || undefined,
      allowHostRootCgroup: settings.allowHostRootCgroup,
      knobs: { dnsCapture: settings.dnsCapture },
    });
    if (datapath.resumed) {
      log.info({ pinDir: settings.pinDir, ...datapath.resumed }, 're-adopted the capture a previous agent left pinned');
    }
    let agent: Agent;
    try {
      agent = new Agent(settings, log, datapath);
    } catch (e) {
      datapath.close({ keepPins: true });
      throw e;
    }
    try {
      await agent.boot();
    } catch (e) {
      await agent.close();
      throw e;
    }
    return agent;
  }

  private async boot(): Promise<void> {
    await this.telemetry.startServers(this.settings, {
      configDump: () => this.configDump(),
      connections: () => this.table.toJSON(),
      readiness: () => this.readiness(),
    });
    this.telemetry.metrics.onGaugeCollect(() => this.sampleGauges());
    await this.config.start();
    // No pod is taken before some config exists (cache or server): with an empty view every
    // outbound connection would look like passthrough — plaintext past HBONE and waypoints.
    this.log.info('waiting for the first config (cache or control plane) before taking pods');
    if (!(await this.config.ready())) throw new AgentError(AgentErrorCodes.DRAINING, 'the config client closed before any config arrived');
    // Kubernetes: the pods already running here come back from the CNI plugin's record.
    if (this.settings.cniRecordDir) await this.enrollment.reenrollRecorded(this.settings.cniRecordDir);
    fs.mkdirSync(path.dirname(this.settings.enrollmentSocket), { recursive: true, mode: 0o700 });
    await this.enrollment.listen();
    this.log.info({ node: this.settings.node, socket: this.settings.enrollmentSocket, cgroupRoot: this.settings.cgroupRoot }, 'agent started');
  }

  private proxyDeps(): OutboundDeps {
    const s = this.settings;
    return {
      node: s.node,
      clusterName: s.clusterName,
      view: () => this.view,
      policy: new MeshInboundPolicy(() => this.view, s.rootNamespace),
      table: this.table,
      connectTimeoutMs: s.connectTimeoutMs,
      probeSources: new Set(s.probeSources),
      origDst: new BpfOrigDstLookup(this.datapath.maps.origDst),
      tunnels: new HboneTunnels(this.pool, { certificateFor: (pod) => this.certificateFor(pod) }, s.connectTimeoutMs),
      observer: this.telemetry.observer,
      planContext: () => ({
        view: this.view,
        node: s.node,
        balancer: this.balancer,
        isLocal: (w) => this.pods.byWorkload(w.namespace, w.name) !== undefined,
      }),
      localPodOf: (w) => this.pods.byWorkload(w.namespace, w.name),
    };
  }

  /** A pod's certificate: acquired once per pod (released when the pod goes), shared by its users. */
  private certificateFor(pod: LocalPod): Promise<WorkloadCertificate> {
    let p = this.podCerts.get(pod.uid);
    if (!p) {
      const acquired = this.certs.acquire({ namespace: pod.namespace, serviceAccount: pod.serviceAccount });
      p = acquired;
      // A failed acquire holds no reference: forget it so the next caller asks again.
      acquired.catch((e: Error) => {
        if (this.podCerts.get(pod.uid) === acquired) this.podCerts.delete(pod.uid);
        this.log.error({ err: e, pod: `${pod.namespace}/${pod.name}` }, 'no certificate for pod');
      });
      this.podCerts.set(pod.uid, acquired);
    }
    // Rotation replaces what acquire() first returned; the manager knows the newest.
    return p.then((first) => this.certs.current(pod.identity.uri) ?? first);
  }

  private forgetPod(pod: LocalPod): void {
    const p = this.podCerts.get(pod.uid);
    this.podCerts.delete(pod.uid);
    if (p) void p.then(() => this.certs.release({ namespace: pod.namespace, serviceAccount: pod.serviceAccount }), () => undefined);
  }

  private hboneServer(deps: OutboundDeps, pod: LocalPod, cert: WorkloadCertificate): HboneServer {
    return createHboneServer({
      certificate: cert,
      onTunnel: (req) => {
        if (this.draining) return req.reject(503, 'the node agent is draining; retry');
        handleHboneTunnel(deps, pod, req);
      },
      logger: this.log.child({ pod: `${pod.namespace}/${pod.name}` }),
    });
  }

  private onRotated(cert: WorkloadCertificate): void {
    for (const rt of this.pods.list()) {
      if (rt.pod.identity.uri !== cert.identity.uri) continue;
      for (const server of rt.hboneServers) server.updateCertificate(cert);
    }
  }

  /** ConfigClient.accept: a throw NACKs the version and the previous view stays. */
  private applyConfig(update: ConfigUpdate): void {
    const view = new MeshView(update.version, update.resources.values());
    // Everything that can refuse the version runs before the data path switches to it.
    this.dns.update(view);
    this.view = view;
    this.configSynced = true;
    for (const listener of [...this.configListeners]) listener();
    this.balancer.retain(new Set([...view.services.values()].map((s) => `svc/${s.namespace}/${s.name}`)));
    const closed = this.table.reauthorize((entry, verdict) => {
      const err = new AgentError(AgentErrorCodes.DENIED, `closed after a policy change: ${verdict.reason}`);
      markClosed(entry, err, 'DENY', verdict.policy);
      entry.close(err);
    });
    this.log.info({ version: update.version, source: update.source, workloads: view.workloads.size, services: view.services.size, closedByPolicy: closed }, 'config applied');
  }

  /** Scrape-time values of the certificate and HBONE connection gauges. */
  private sampleGauges(): void {
    const counts = { valid: 0, expiring: 0, expired: 0, pending: 0 };
    for (const st of this.certs.status()) {
      if (st.state === 'valid') counts.valid++;
      else if (st.state === 'expired') counts.expired++;
      else if (st.state === 'pending' || st.notAfter === undefined) counts.pending++;
      else counts.expiring++; // refreshing or retrying while the current one is still served
    }
    this.telemetry.metrics.setCertificates(counts);
    this.telemetry.metrics.setHboneConnections('outbound', this.pool.stats().connections.length);
    let inbound = 0;
    for (const rt of this.pods.list()) for (const h of rt.hboneServers) inbound += h.stats().sessions;
    this.telemetry.metrics.setHboneConnections('inbound', inbound);
  }

  private readiness(): Array<{ name: string; ok: boolean; detail?: string }> {
    const pods = this.pods.list();
    const missing = pods.filter((rt) => !this.certs.current(rt.pod.identity.uri)).map((rt) => rt.key);
    return [
      { name: 'bpf', ok: !this.datapath.closed, detail: `capture attached at ${this.settings.cgroupRoot}` },
      { name: 'config', ok: this.configSynced, detail: this.configSynced ? `version ${this.view.version}` : 'no config accepted yet' },
      // After a restart the node's pods come back with the enrollment snapshot; ready before it
      // would claim pods are served that the agent does not know yet.
      { name: 'pods', ok: this.pods.synced, detail: this.pods.synced ? `${pods.length} enrolled` : (this.enrollment.waitingFor() ?? 'waiting for the enrollment snapshot') },
      { name: 'certificates', ok: missing.length === 0, detail: missing.length ? `no certificate yet for ${missing.join(', ')}` : `${pods.length} pod(s)` },
      { name: 'draining', ok: !this.draining, detail: this.draining ? 'draining' : 'serving' },
    ];
  }

  private configDump(): unknown {
    return {
      node: this.settings.node,
      settings: this.settings,
      config: { version: this.view.version, synced: this.configSynced, workloads: [...this.view.workloads.values()], services: [...this.view.services.values()], authorizations: [...this.view.authorizations.values()], peerAuthentications: this.view.peerAuthentications },
      pods: this.pods.list().map((rt) => ({ uid: rt.pod.uid, name: rt.key, ips: rt.pod.ips, identity: rt.pod.identity.uri, serving: rt.serving })),
      certificates: this.certs.status(),
      hbone: { pool: this.pool.stats(), servers: this.pods.list().flatMap((rt) => rt.hboneServers.map((h) => ({ pod: rt.key, ...h.stats() }))) },
      counters: Object.fromEntries(Object.entries(this.datapath.counters()).map(([k, v]) => [k, Number(v)])),
    };
  }

  /** SIGTERM: refuse new pods and tunnels, let connections finish until the deadline, then close. */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const deadline = this.settings.drainTimeoutMs;
    this.log.info({ connections: this.table.size, deadlineMs: deadline }, 'draining');
    await this.enrollment.close();
    for (const rt of this.pods.list()) rt.stopAccepting();
    const emptied = await Promise.all([this.table.waitEmpty(deadline), ...this.pods.list().flatMap((rt) => rt.hboneServers.map((h) => h.drain(deadline)))]);
    this.log.info({ leftOpen: this.table.size, emptied: emptied[0] }, 'drain finished');
  }

  /**
   * Closes everything (idempotent). With a pin directory, capture stays: pods keep failing closed
   * (no listener answers) until the next agent re-adopts them; removing the pins is an uninstall
   * (docs/agent.md). Without one, everything is detached.
   */
  async close(): Promise<void> {
    this.draining = true;
    const keepPins = Boolean(this.settings.pinDir);
    await this.enrollment.close().catch(() => undefined);
    for (const e of this.table.list()) e.close(new AgentError(AgentErrorCodes.DRAINING, 'the node agent is shutting down'));
    await this.pods.removeAll(0, { keepCapture: keepPins });
    await this.config.close();
    this.certs.close();
    this.pool.close();
    await this.dns.close();
    await this.telemetry.close();
    this.datapath.close({ keepPins });
  }
}
