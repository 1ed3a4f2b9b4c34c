// Shared set-up of the HBONE integration tests: a test CA with a server and a client identity,
// a per-test cleanup list run (last in, first out) after each test, and the app dial a tunnel
// server makes before it accepts.
import net from 'node:net';
import type { HboneRequest } from '../../common/hbone/server-request';
import type { WorkloadCertificate } from '../../common/identity/workload-certificate';
import { TestCa } from './test-ca';

export interface TestPair {
  ca: TestCa;
  /** bookinfo/reviews */
  serverCert: WorkloadCertificate;
  /** bookinfo/productpage */
  clientCert: WorkloadCertificate;
}

export async function issueTestPair(): Promise<TestPair> {
  const ca = await TestCa.create();
  return { ca, serverCert: await ca.issue('bookinfo', 'reviews'), clientCert: await ca.issue('bookinfo', 'productpage') };
}

/** Registers an afterEach that runs what the test pushed, newest first. */
export function cleanupAfterEach(): { push(fn: () => unknown): void } {
  let fns: Array<() => unknown> = [];
  afterEach(async () => {
    const run = fns.reverse();
    fns = [];
    for (const fn of run) await fn();
  });
  return { push: (fn) => void fns.push(fn) };
}

/**
 * Dials the tunnel's target (half-open allowed, as the agent dials apps) and hands the connected
 * socket to `connected`; a target that refuses gets 503, as the agent answers.
 */
export function dialTunnelTarget(req: HboneRequest, connected: (upstream: net.Socket) => void): void {
  const upstream = net.connect({ host: req.authority.host, port: req.authority.port, allowHalfOpen: true });
  const refused = (): void => req.reject(503, 'the app did not accept');
  upstream.once('error', refused);
  upstream.once('connect', () => {
    upstream.off('error', refused);
    connected(upstream);
  });
}
