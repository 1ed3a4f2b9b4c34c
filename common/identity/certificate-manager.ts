/**
 * The agent's workload certificates: one ECDSA P-256 key and certificate per service account with
 * a pod on this node, fetched from the control plane's CA (certificate-request.ts) and kept fresh.
 *
 *   acquire(id) -> [shared request] -> certificate -> refresh at refreshFraction of its lifetime
 *                                   \-> failure -> retry with jittered exponential backoff
 *   release(id) -> last reference: forget the identity once its in-flight request settles
 *
 * A failed refresh never takes a certificate away: the old one is served until it expires. The
 * trust bundle is taken from every response, and announced when it changes.
 */
import * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { Backoff } from '../config-client/backoff';
import { checkTrustDomain, DEFAULT_TRUST_DOMAIN, SpiffeId, spiffeId } from '../identity/spiffe';
import type { WorkloadCertificate } from '../identity/workload-certificate';
import { silentLogger, type Logger } from '../log';
import type { CertificateServiceClient } from '../proto/generated/ambit/v1/CertificateService';
import { createCertificateServiceClient } from '../proto/load';
import { CertificateRequester, GrpcCertificateRequester } from './certificate-request';
import { asIdentityError, closedError, IdentityError, IdentityErrorCodes } from './identity-errors';
import { IdentityStatus, identityStatus } from './identity-status';
import { checkNodeTokenSource, NodeTokenSource } from './node-token';
import { refreshDelayMs, ScheduleOptions, scheduleSettings, ScheduleSettings } from './refresh-schedule';

export interface WorkloadIdentity {
  readonly namespace: string;
  readonly serviceAccount: string;
}

export interface CertificateManagerOptions extends ScheduleOptions {
  /** host:port of the control plane's CertificateService. */
  address: string;
  /** Default: insecure, as for a node-local or test control plane. */
  credentials?: grpc.ChannelCredentials;
  /** A client to use instead of one made from address/credentials; close() leaves it open. */
  client?: CertificateServiceClient;
  /** The node credential: inline, or a file re-read for every request. */
  nodeToken: NodeTokenSource;
  /** Default cluster.local. */
  trustDomain?: string;
  logger?: Logger;
}

export interface CertificateManagerEvents {
  /** An identity got a new certificate (its first included: `previous` is then undefined). */
  rotated: [cert: WorkloadCertificate, previous: WorkloadCertificate | undefined];
  /**
   * The trust bundle changed (the first one included). A WorkloadCertificate carries the bundle
   * of its own response; follow this event (or trustBundle()) for the current one.
   */
  trustBundle: [pems: readonly string[]];
}

interface Waiter {
  resolve(cert: WorkloadCertificate): void;
  reject(err: IdentityError): void;
  timer: NodeJS.Timeout;
}

interface Entry {
  readonly id: SpiffeId;
  readonly backoff: Backoff;
  readonly waiters: Set<Waiter>;
  refs: number;
  cert: WorkloadCertificate | undefined;
  inflight: boolean;
  timer: NodeJS.Timeout | undefined;
  nextAttemptAt: Date | undefined;
  failures: number;
  lastError: { error: IdentityError; at: Date } | undefined;
}

export class CertificateManager extends EventEmitter<CertificateManagerEvents> {
  private readonly settings: ScheduleSettings;
  private readonly trustDomain: string;
  private readonly log: Logger;
  private readonly requester: CertificateRequester;
  private readonly ownClient: CertificateServiceClient | undefined;
  private readonly entries = new Map<string, Entry>();
  private bundle: readonly string[] = [];
  private closed = false;

  constructor(opts: CertificateManagerOptions) {
    super();
    this.settings = scheduleSettings(opts);
    // Bad settings fail here, at start, not at the first pod.
    this.trustDomain = checkTrustDomain(opts.trustDomain ?? DEFAULT_TRUST_DOMAIN);
    checkNodeTokenSource(opts.nodeToken);
    void new Backoff(this.settings.retry);
    this.log = (opts.logger ?? silentLogger).child({ component: 'certificate-manager' });
    const retry = this.settings.retry;
    this.ownClient =
      opts.client === undefined
        ? createCertificateServiceClient(opts.address, opts.credentials ?? grpc.credentials.createInsecure(), {
            // The channel's own reconnect backoff (default up to 120 s) would outlast our retries.
            'grpc.initial_reconnect_backoff_ms': retry.initialMs,
            'grpc.max_reconnect_backoff_ms': retry.maxMs,
          })
        : undefined;
    this.requester = new GrpcCertificateRequester({
      client: opts.client ?? this.ownClient!,
      address: opts.address,
      nodeToken: opts.nodeToken,
      requestTimeoutMs: this.settings.requestTimeoutMs,
    });
  }

  /**
   * Takes a reference on an identity and resolves with a valid certificate for it: at once when
   * one is held, else when the (shared) request succeeds. Rejects without keeping the reference
   * when the CA refuses (e.g. NOT_ON_NODE), or after acquireTimeoutMs of retryable failures.
   */
  acquire(id: WorkloadIdentity): Promise<WorkloadCertificate> {
    if (this.closed) return Promise.reject(closedError());
    let sid: SpiffeId;
    try {
      sid = this.identityOf(id);
    } catch (e) {
      return Promise.reject(e);
    }
    let entry = this.entries.get(sid.uri);
    if (entry === undefined) {
      entry = newEntry(sid, new Backoff(this.settings.retry));
      this.entries.set(sid.uri, entry);
    }
    entry.refs++;
    const valid = validCert(entry);
    if (valid !== undefined) return Promise.resolve(valid);
    // A new entry starts its first request; one waiting out a backoff is not hurried (that is what backoff is for).
    if (!entry.inflight && entry.timer === undefined) this.attempt(entry);
    return this.wait(entry);
  }

  /** Gives back a reference taken by a successful acquire(). The last one forgets the identity. */
  release(id: WorkloadIdentity): void {
    const uri = this.identityOf(id).uri;
    const entry = this.entries.get(uri);
    if (entry === undefined || entry.refs === 0) {
      throw new IdentityError(IdentityErrorCodes.INVALID_ARGUMENT, `release(${uri}): the identity is not held`);
    }
    this.dropRefs(entry, 1);
  }

  /** The valid certificate held for a SPIFFE URI, if any. */
  current(uri: string): WorkloadCertificate | undefined {
    const entry = this.entries.get(uri);
    return entry === undefined ? undefined : validCert(entry);
  }

  /** The roots from the latest CA response (PEM each); empty before the first one. */
  trustBundle(): string[] {
    return [...this.bundle];
  }

  /** One line per held identity, sorted by URI. */
  status(): IdentityStatus[] {
    const now = Date.now();
    return [...this.entries.values()]
      .map((e) => identityStatus({ uri: e.id.uri, ...e }, now))
      .sort((a, b) => (a.identity < b.identity ? -1 : 1));
  }

  /** Stops all timers and requests; pending acquires reject with CLOSED. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.entries.values()) {
      clearTimeout(entry.timer);
      this.settleWaiters(entry, closedError());
    }
    this.entries.clear();
    this.requester.cancelAll();
    this.ownClient?.close();
  }

  private identityOf(id: WorkloadIdentity): SpiffeId {
    try {
      return spiffeId(this.trustDomain, id.namespace, id.serviceAccount);
    } catch (e) {
      throw new IdentityError(IdentityErrorCodes.INVALID_ARGUMENT, (e as Error).message, { cause: e });
    }
  }

  private wait(entry: Entry): Promise<WorkloadCertificate> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          entry.waiters.delete(waiter);
          const last = entry.lastError?.error;
          reject(
            new IdentityError(
              IdentityErrorCodes.TIMEOUT,
              `no certificate for ${entry.id.uri} after ${this.settings.acquireTimeoutMs} ms` + (last ? `; last error: ${last.message}` : ''),
              { cause: last },
            ),
          );
          this.dropRefs(entry, 1);
        }, this.settings.acquireTimeoutMs),
      };
      entry.waiters.add(waiter);
    });
  }

  private attempt(entry: Entry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.nextAttemptAt = undefined;
    entry.inflight = true;
    const requestedAt = Date.now();
    this.requester
      .request(entry.id, this.settings.validitySeconds)
      .then(
        (cert) => this.succeeded(entry, cert, requestedAt),
        (err: unknown) => this.failed(entry, asIdentityError(err, entry.id.uri)),
      )
      .finally(() => {
        entry.inflight = false;
        if (entry.refs === 0) this.forget(entry);
      })
      .catch((err: unknown) => this.log.error({ err, identity: entry.id.uri }, 'certificate upkeep failed unexpectedly'));
  }

  private succeeded(entry: Entry, cert: WorkloadCertificate, requestedAt: number): void {
    if (this.closed || entry.refs === 0) return;
    const previous = entry.cert;
    entry.cert = cert;
    entry.failures = 0;
    entry.backoff.reset();
    const delay = refreshDelayMs(requestedAt, cert.notAfter, this.settings.refreshFraction, Date.now());
    this.schedule(entry, delay);
    this.log.info({ identity: entry.id.uri, notAfter: cert.notAfter, refreshInMs: delay }, previous ? 'certificate rotated' : 'certificate issued');
    const bundleChanged = this.bundle.join('') !== cert.trustBundlePem.join('');
    if (bundleChanged) this.bundle = cert.trustBundlePem;
    this.settleWaiters(entry, cert);
    if (bundleChanged) this.safeEmit('trustBundle', this.trustBundle());
    this.safeEmit('rotated', cert, previous);
  }

  /** A throwing listener must not break the refresh loop of every identity. */
  private safeEmit<K extends keyof CertificateManagerEvents>(event: K, ...args: CertificateManagerEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: CertificateManagerEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.log.error({ err, event }, 'a certificate manager listener threw');
    }
  }

  private failed(entry: Entry, error: IdentityError): void {
    if (this.closed) return;
    entry.failures++;
    entry.lastError = { error, at: new Date() };
    if (entry.refs === 0) return;
    // Callers waiting for a first certificate learn at once of a refusal waiting will not fix.
    if (!error.retryable && validCert(entry) === undefined && entry.waiters.size > 0) {
      const waiting = entry.waiters.size;
      this.settleWaiters(entry, error);
      this.dropRefs(entry, waiting);
      if (entry.refs === 0) return;
    }
    const delay = entry.backoff.next();
    this.log.warn(
      { identity: entry.id.uri, code: error.code, err: error.message, retryInMs: delay, servingUntil: validCert(entry)?.notAfter },
      'certificate request failed',
    );
    this.schedule(entry, delay);
  }

  private schedule(entry: Entry, delayMs: number): void {
    clearTimeout(entry.timer);
    entry.nextAttemptAt = new Date(Date.now() + delayMs);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      this.attempt(entry);
    }, delayMs);
    // Identity upkeep alone does not keep the process alive; the agent's servers do.
    entry.timer.unref();
  }

  private settleWaiters(entry: Entry, outcome: WorkloadCertificate | IdentityError): void {
    for (const w of entry.waiters) {
      clearTimeout(w.timer);
      if (outcome instanceof IdentityError) w.reject(outcome);
      else w.resolve(outcome);
    }
    entry.waiters.clear();
  }

  private dropRefs(entry: Entry, n: number): void {
    entry.refs = Math.max(0, entry.refs - n);
    if (entry.refs > 0) return;
    // Anyone still waiting released before their certificate came: they will not get one.
    this.settleWaiters(entry, new IdentityError(IdentityErrorCodes.CLOSED, `${entry.id.uri} was released before a certificate was issued`));
    if (!entry.inflight) this.forget(entry);
  }

  private forget(entry: Entry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    if (this.entries.get(entry.id.uri) === entry) this.entries.delete(entry.id.uri);
    this.log.debug({ identity: entry.id.uri }, 'identity released');
  }
}

function newEntry(id: SpiffeId, backoff: Backoff): Entry {
  return { id, backoff, waiters: new Set(), refs: 0, cert: undefined, inflight: false, timer: undefined, nextAttemptAt: undefined, failures: 0, lastError: undefined };
}

function validCert(entry: Entry): WorkloadCertificate | undefined {
  return entry.cert !== undefined && entry.cert.notAfter.getTime() > Date.now() ? entry.cert : undefined;
}
