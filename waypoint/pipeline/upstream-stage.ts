/**
 * upstream: balance -> pool limit -> exchange, retried. For one backend (service + port) of the
 * chosen route rule:
 *  - endpoints are the service's ready endpoints minus those outlier detection ejected (none left:
 *    503 UH);
 *  - the DestinationRule's load balancer picks one, avoiding endpoints this request already tried;
 *  - connectionPool limits admit the request or overflow it (503 UO);
 *  - the exchange runs with the per-try timeout (timeouts.backendRequest);
 *  - a retryable outcome (the route's retry codes, connect failure, reset, per-try timeout) is
 *    retried after a jittered exponential back-off while attempts, the retry budget and the
 *    request deadline (timeouts.request) allow; only a buffered body can be replayed.
 * The outcome of every attempt feeds outlier detection.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { RouteRetry__Output } from '../../common/proto/generated/ambit/v1/RouteRetry';
import { hashKeyOf } from '../balance/hash-key';
import { WaypointErrorCodes } from '../errors';
import type { Service } from '../model/waypoint-view';
import { backoffDelayMs, maxRetries, retryableOutcome } from '../resilience/retry-policy';
import type { UpstreamExchanges, UpstreamFailure, UpstreamResponse } from '../upstream/upstream-exchange';
import type { UpstreamStates } from '../upstream/upstream-state';
import type { Exchange } from './exchange';

export interface UpstreamCall {
  readonly service: Service;
  readonly port: number;
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer | Readable | undefined;
  readonly version: 'http1' | 'h2';
  readonly retry: RouteRetry__Output | null;
  /** timeouts.backendRequest; 0 = none. */
  readonly perTryTimeoutMs: number;
  /** Absolute deadline from timeouts.request (performance.now() clock); Infinity = none. */
  readonly deadline: number;
}

export interface UpstreamDeps {
  readonly states: UpstreamStates;
  readonly exchanges: UpstreamExchanges;
  readonly random: () => number;
}

/** Finishes the request's hold on its endpoint and pool slot once the response body is done. */
export interface Upstreamed {
  readonly response: UpstreamResponse;
  readonly finish: () => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function callUpstream(ex: Exchange, deps: UpstreamDeps, call: UpstreamCall): Promise<Upstreamed | undefined> {
  const state = deps.states.get(ex.view, call.service, call.port);
  const lb = state.policy?.loadBalancer;
  let hashKey: string | undefined;
  if (lb?.consistentHash) {
    const k = hashKeyOf(lb.consistentHash, ex.facts);
    hashKey = k.key;
    if (k.setCookie) ex.responseHeaders['set-cookie'] = k.setCookie;
  }
  const replayable = call.body === undefined || Buffer.isBuffer(call.body);
  const retries = replayable ? maxRetries(call.retry) : 0;
  const tried = new Set<string>();
  state.budget.onRequestStart();
  try {
    for (let attempt = 0; ; attempt++) {
      const remaining = call.deadline - performance.now();
      if (remaining <= 0) return timedOut(ex, 'the request timeout (timeouts.request) expired');
      const all = ex.view.endpointsOf(call.service, call.port);
      const endpoints = state.outliers ? state.outliers.available(all) : all;
      if (endpoints.length === 0) {
        ex.reply(503, all.length === 0 ? `no healthy upstream: ${call.service.hostname}:${call.port} has no ready endpoint\n` : `no healthy upstream: every endpoint of ${call.service.hostname}:${call.port} is ejected by outlier detection\n`, {
          flag: 'UH',
          code: WaypointErrorCodes.NO_HEALTHY_UPSTREAM,
        });
        return undefined;
      }
      const ep = state.balancer.pick(endpoints, hashKey, tried)!;
      tried.add(ep.uid);
      // Waiting for a slot ends with the request deadline or when the client goes away.
      // (Only a limited pool can make a request wait; unlimited ones need no signal.)
      const limited = Number.isFinite(state.pool.maxActive);
      const signal = !limited ? undefined : Number.isFinite(call.deadline) ? AbortSignal.any([ex.clientGone, AbortSignal.timeout(Math.max(1, Math.ceil(remaining)))]) : ex.clientGone;
      const slot = state.pool.acquire(signal);
      if (slot === undefined) {
        ex.reply(503, `upstream overflow: the connectionPool limits of ${state.policySource ?? call.service.hostname} are reached\n`, { flag: 'UO', code: WaypointErrorCodes.OVERFLOW });
        return undefined;
      }
      let release: () => void;
      try {
        release = await slot;
      } catch {
        if (ex.done) return undefined;
        return timedOut(ex, 'the request timeout (timeouts.request) expired while waiting for a connection-pool slot');
      }
      ex.attempts = attempt + 1;
      ex.endpoint = ep;
      state.balancer.started(ep.uid);
      let held = true;
      const done = (): void => {
        if (!held) return; // once: the balancer's in-flight count is not idempotent
        held = false;
        state.balancer.finished(ep.uid);
        release();
      };
      const perTry = Math.min(call.perTryTimeoutMs > 0 ? call.perTryTimeoutMs : Infinity, remaining);
      let outcome: { status?: number; connectFailure?: boolean; reset?: boolean; timeout?: boolean };
      let response: UpstreamResponse | undefined;
      let failure: UpstreamFailure | undefined;
      try {
        response = await deps.exchanges.send(ep, call.version, {
          method: call.method,
          path: call.path,
          authority: call.authority,
          headers: attempt > 0 ? { ...call.headers, 'x-envoy-attempt-count': String(attempt + 1) } : call.headers,
          body: call.body,
          timeoutMs: Number.isFinite(perTry) ? Math.max(1, Math.floor(perTry)) : 0,
        });
        outcome = { status: response.status };
      } catch (e) {
        failure = e as UpstreamFailure;
        outcome = { connectFailure: failure.kind === 'connect-failure', reset: failure.kind === 'reset', timeout: failure.kind === 'timeout' };
      }
      state.outliers?.record(ep.uid, outcome);
      const canRetry = attempt < retries && retryableOutcome(call.retry, outcome);
      if (canRetry) {
        const budget = state.budget.tryRetry();
        if (budget) {
          response?.abort();
          done();
          const delay = backoffDelayMs(attempt + 1, call.retry?.backoffMs || 25, deps.random);
          if (performance.now() + delay < call.deadline) {
            await sleep(delay);
            budget();
            continue;
          }
          budget();
          if (response) return timedOut(ex, 'the request timeout (timeouts.request) expired while retrying');
        }
      }
      if (response) return { response, finish: done };
      done();
      if (attempt > 0) ex.flag('URX');
      if (failure!.kind === 'timeout') return timedOut(ex, `upstream request timeout: ${failure!.message}`);
      ex.reply(503, `upstream connect error or disconnect/reset before headers: ${failure!.message}\n`, {
        flag: failure!.kind === 'connect-failure' ? 'UF' : 'UR',
        code: WaypointErrorCodes.UPSTREAM_FAILURE,
      });
      return undefined;
    }
  } finally {
    state.budget.onRequestEnd();
  }
}

function timedOut(ex: Exchange, why: string): undefined {
  ex.reply(504, `${why}\n`, { flag: 'UT', code: WaypointErrorCodes.UPSTREAM_TIMEOUT });
  return undefined;
}
