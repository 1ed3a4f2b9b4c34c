// Shared set-up of the HBONE integration tests: a test CA with a server and a client identity,
// and a per-test cleanup list run (last in, first out) after each test.
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
