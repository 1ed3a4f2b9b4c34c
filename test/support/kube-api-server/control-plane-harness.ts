/**
 * A control plane on the Kubernetes source against the test API server, as `ambit control-plane
 * --source kube` assembles it (control-plane/main.ts): KubeCluster -> startControlPlane (CA root
 * from the Secret) -> startControllers. Log lines are kept for assertions; close() tears
 * everything down.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { ConfigClient, type ConfigUpdate } from '../../../common/config-client';
import { createLogger } from '../../../common/log';
import { startControlPlane, type ControlPlane } from '../../../control-plane/control-plane';
import { KubeCluster, type KubeClusterOptions } from '../../../control-plane/kube/kube-cluster';
import type { KubeApiServer } from './server';

export interface KubeControlPlane {
  readonly kube: KubeCluster;
  readonly cp: ControlPlane;
  readonly logs: Array<Record<string, any>>;
  /** A ConfigClient subscribed as `node`'s agent (closed by close()). */
  agent(node: string): ConfigClient;
  close(): Promise<void>;
}

export const WAYPOINT_SETTINGS = {
  image: 'registry.test/ambit:1.0',
  command: ['ambit', 'waypoint'],
  controlPlaneAddress: 'ambit-control-plane.ambit-system.svc:15012',
  trustDomain: 'cluster.local',
  rootNamespace: 'istio-system',
};

export async function startKubeControlPlane(
  api: KubeApiServer,
  opts: { user?: string; identity?: string } & Partial<Omit<KubeClusterOptions, 'kubeconfig' | 'logger' | 'identity'>> = {},
): Promise<KubeControlPlane> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-kube-cp-'));
  const logs: Array<Record<string, any>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line !== '') logs.push(JSON.parse(line) as Record<string, any>);
      cb();
    },
  });
  const logger = createLogger('control-plane', { level: 'debug', destination });
  const clients: ConfigClient[] = [];
  const { user, identity, ...rest } = opts;
  const kube = new KubeCluster({
    namespace: 'ambit-system',
    waypoint: WAYPOINT_SETTINGS,
    nodeAuth: { audience: 'ambit', agentServiceAccounts: ['ambit-system/ambit-agent'] },
    syncTimeoutMs: 10_000,
    ...rest,
    kubeconfig: api.writeKubeconfig(dir, user),
    identity: identity ?? 'replica-a',
    logger,
    informers: { backoff: { initialMs: 50, maxMs: 400 }, absentRecheckMs: 200, ...rest.informers },
    leaderElection: { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 100, ...rest.leaderElection },
    caRoot: { waitMs: 10_000, pollMs: 50, ...rest.caRoot },
  });
  let cp: ControlPlane;
  try {
    cp = await startControlPlane({
      sources: [kube.source],
      stateDir: path.join(dir, 'state'),
      nodeAuthenticator: kube.nodeAuthenticator,
      rootStore: kube.rootStore,
      grpcListen: '127.0.0.1:0',
      httpListen: '127.0.0.1:0',
      debounceMs: 5,
      logger,
    });
  } catch (e) {
    await kube.stopControllers(); // the CA's root store may have started campaigning
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  kube.startControllers();
  return {
    kube,
    cp,
    logs,
    agent(node) {
      const c = new ConfigClient({ address: cp.grpcAddress, subscription: { node }, accept: () => undefined, backoff: { initialMs: 50, maxMs: 200 } });
      clients.push(c);
      void c.start();
      return c;
    },
    async close() {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await kube.stopControllers();
      await cp.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves when `check` returns a value other than undefined/false; rejects after `ms` naming `what`. */
export async function eventually<T>(what: string, check: () => T | undefined | false, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The client's current resources that start with `<TYPE>:`. */
export function resourcesOf(c: ConfigClient, type: string): Map<string, any> {
  return new Map([...c.resources].filter(([k]) => k.startsWith(`${type}:`)));
}

export type { ConfigUpdate };
