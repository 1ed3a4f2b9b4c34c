/**
 * One DNS message through the proxy, the whole pipeline in one place:
 *
 *   parse -> (refuse | drop) -> findName (A/AAAA of a known name) -> localAnswer
 *                                  `-> forward upstream -> (SERVFAIL on failure)
 *                                                     -> fit the UDP size limit
 *
 * The handler never throws and never hangs longer than the upstream's own
 * deadline: every outcome is a response to send, or null (drop).
 */
import { silentLogger, type Logger } from '../../common/log';
import { fitUdp, headerOnlyResponse, parseQuery, Rcode, responseRcode, udpLimit, withId } from './dns-message';
import { answersLocally, localAnswer } from './local-answer';
import { findName, type SearchContext } from './search-names';
import type { DnsLookup } from './service-dns-table';
import type { DnsForwarder, DnsTransport } from './upstream-client';

export type DnsOutcome = 'local' | 'forwarded' | 'servfail' | 'formerr' | 'notimp' | 'dropped';

/** One line per query, for metrics and access logs (ztunnel's dns access log has the same fields). */
export interface DnsQueryEvent {
  namespace: string;
  pod?: string;
  transport: DnsTransport;
  /** Question name and type; absent for messages that did not parse. */
  name?: string;
  type?: string;
  outcome: DnsOutcome;
  /** Response code sent (-1 when dropped). */
  rcode: number;
  /** Answer records of a local answer or forwarded response. */
  answers: number;
  durationMs: number;
  /** Error code of a failed forward (AMBIT_ERR_DNS_*). */
  error?: string;
}

export interface DnsHooks {
  onQuery?(event: DnsQueryEvent): void;
}

export interface DnsHandlerContext extends SearchContext {
  pod?: string;
  lookup: DnsLookup;
  forwarder: DnsForwarder;
  logger?: Logger;
  hooks?: DnsHooks;
}

function answerCount(raw: Buffer): number {
  return raw.length >= 8 ? raw.readUInt16BE(6) : 0;
}

export async function handleDnsMessage(raw: Buffer, transport: DnsTransport, ctx: DnsHandlerContext): Promise<Buffer | null> {
  const started = process.hrtime.bigint();
  const log = ctx.logger ?? silentLogger;
  const report = (e: Omit<DnsQueryEvent, 'namespace' | 'pod' | 'transport' | 'durationMs'>) => {
    const event: DnsQueryEvent = {
      namespace: ctx.namespace,
      pod: ctx.pod,
      transport,
      durationMs: Number(process.hrtime.bigint() - started) / 1e6,
      ...e,
    };
    log.debug({ dns: event }, 'dns query');
    try {
      ctx.hooks?.onQuery?.(event);
    } catch (err) {
      log.warn({ err }, 'dns onQuery hook threw');
    }
  };

  const msg = parseQuery(raw);
  if (msg.kind === 'drop') {
    report({ outcome: 'dropped', rcode: -1, answers: 0, error: msg.reason });
    return null;
  }
  if (msg.kind === 'refuse') {
    report({ outcome: msg.rcode === Rcode.NOTIMP ? 'notimp' : 'formerr', rcode: msg.rcode, answers: 0, error: msg.reason });
    return headerOnlyResponse(msg.raw, msg.rcode, msg.questionEnd);
  }

  const limit = transport === 'udp' ? udpLimit(msg.ednsUdpSize) : Infinity;
  const q = { name: msg.name, type: msg.type };
  if (answersLocally(msg)) {
    const match = findName(ctx.lookup, msg.name, ctx);
    if (match) {
      const out = localAnswer(msg, match);
      report({ ...q, outcome: 'local', rcode: Rcode.NOERROR, answers: answerCount(out) });
      return transport === 'udp' ? fitUdp(out, limit) : out;
    }
  }

  try {
    const answer = withId(await ctx.forwarder.forward(msg.raw, transport), msg.id);
    report({ ...q, outcome: 'forwarded', rcode: responseRcode(answer), answers: answerCount(answer) });
    return transport === 'udp' ? fitUdp(answer, limit) : answer;
  } catch (e) {
    const code = (e as { code?: string }).code;
    report({ ...q, outcome: 'servfail', rcode: Rcode.SERVFAIL, answers: 0, error: code ?? String(e) });
    return headerOnlyResponse(msg.raw, Rcode.SERVFAIL, msg.questionEnd);
  }
}
