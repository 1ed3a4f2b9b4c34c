/**
 * The enrollment protocol: how a node's pod sandboxes are announced to the agent, over the agent's
 * unix SOCK_SEQPACKET socket (mode 0600, root peers only). One JSON object per message, so message
 * boundaries are the kernel's and no framing is needed; at most ENROLLMENT_MAX_MESSAGE bytes.
 *
 *   client -> agent                                     fds   answer
 *   hello         {version, client}                       0   hello {version, node} | nack {id: null} + close
 *   add           {id, pod: PodInfo}                      1   ack {id} | nack {id, code, reason}
 *   keep          {id, uid}                               0   ack | nack   (snapshot only)
 *   snapshot_sent {id}                                    0   ack | nack
 *   del           {id, uid, sandbox?}                     0   ack | nack
 *   cni_add       {id, pod: CniPodInfo, sandbox?}         1   ack | not_ambient {id, reason} | nack
 *
 *   agent -> client: hello {version, node} · ack {id} · nack {id: string | null, code, reason}
 *                    · not_ambient {id, reason}
 *
 * add and cni_add carry the pod's network namespace as exactly one fd (SCM_RIGHTS). cni_add is
 * what the chained CNI plugin (native/cni/) sends: it knows the pod's name, uid, cgroup and IPs
 * but not its identity, nor whether it is ambient; the agent takes both from its mesh config
 * (the pod's workload) and answers ack (enrolled, as for add), not_ambient (nothing to do) or
 * nack (AMBIT_ERR_ENROLL_UNKNOWN_WORKLOAD when the config does not know the pod in time). Every message has a
 * `type`; unknown types and unknown or malformed fields are refused with a nack naming the field
 * (id null when the id itself could not be read), and the fds of a refused message are closed.
 *
 * `sandbox` (optional, CNI only) names the pod sandbox a cni_add or del is about: the CNI container
 * id. A Kubernetes pod keeps its uid when its sandbox is replaced, and the runtime may DEL the old
 * sandbox after the new one was ADDed: the agent remembers the sandbox a pod was enrolled with and
 * acks a del naming another one without doing anything (the new sandbox stays enrolled), and a
 * cni_add naming another sandbox than the enrolled one replaces it.
 *
 * Sequence per session (connection): hello first (anything else: nack and close); then a snapshot
 * of add/keep for every pod the client knows, ended by snapshot_sent, at which the agent removes the
 * pods it has that the snapshot neither added nor kept; then incremental add/del. A session that
 * never sends snapshot_sent prunes nothing: that is how a one-shot client (a CNI ADD or DEL) talks,
 * which is why del is accepted before snapshot_sent too. keep is only valid before snapshot_sent,
 * and only for a pod the agent has (else nack AMBIT_ERR_ENROLL_UNKNOWN_POD: send add instead).
 * Messages of one session are handled in order; an ack means the work is done (for add: capture
 * is in place).
 */
import net from 'node:net';
import { EnrollmentError, EnrollmentErrorCodes } from './errors';

export const ENROLLMENT_PROTOCOL_VERSION = 1;
/** Largest message either end sends or accepts (the native socket's maximum). */
export const ENROLLMENT_MAX_MESSAGE = 64 * 1024;

export interface PodInfo {
  /** Kubernetes pod UID (or the local runtime's pod id): the key of keep/del. */
  uid: string;
  name: string;
  namespace: string;
  serviceAccount: string;
  /** Absolute cgroup v2 path of the pod (its outbound capture is keyed on it). */
  cgroupPath: string;
  ips: string[];
}

/** What a CNI plugin knows of a pod (CNI_ARGS, the runtime's cgroup, prevResult): no identity. */
export type CniPodInfo = Omit<PodInfo, 'serviceAccount'>;

export type ClientMessage =
  | { type: 'hello'; version: number; client: string }
  | { type: 'add'; id: string; pod: PodInfo }
  | { type: 'cni_add'; id: string; pod: CniPodInfo; sandbox?: string }
  | { type: 'keep'; id: string; uid: string }
  | { type: 'snapshot_sent'; id: string }
  | { type: 'del'; id: string; uid: string; sandbox?: string };

export type AgentMessage =
  | { type: 'hello'; version: number; node: string }
  | { type: 'ack'; id: string }
  | { type: 'nack'; id: string | null; code: string; reason: string }
  | { type: 'not_ambient'; id: string; reason: string };

type Fields = Record<string, unknown>;

const CLIENT_FIELDS: Record<ClientMessage['type'], readonly string[]> = {
  hello: ['version', 'client'],
  add: ['id', 'pod'],
  keep: ['id', 'uid'],
  snapshot_sent: ['id'],
  del: ['id', 'uid'],
  cni_add: ['id', 'pod'],
};

/** Fields a message may leave out. */
const OPTIONAL_FIELDS: Partial<Record<ClientMessage['type'], readonly string[]>> = {
  del: ['sandbox'],
  cni_add: ['sandbox'],
};

const AGENT_FIELDS: Record<AgentMessage['type'], readonly string[]> = {
  hello: ['version', 'node'],
  ack: ['id'],
  nack: ['id', 'code', 'reason'],
  not_ambient: ['id', 'reason'],
};

const POD_FIELDS = ['uid', 'name', 'namespace', 'serviceAccount', 'cgroupPath', 'ips'] as const;
const CNI_POD_FIELDS = ['uid', 'name', 'namespace', 'cgroupPath', 'ips'] as const;
const MAX_ID = 128;
/** A CNI container id (containerd and CRI-O use 64 hex digits). */
export const MAX_SANDBOX = 255;
const MAX_IPS = 16;

class Reader {
  constructor(readonly id: string | null) {}

  fail(reason: string): never {
    throw new EnrollmentError(EnrollmentErrorCodes.PROTOCOL, reason, this.id);
  }

  object(v: unknown, what: string): Fields {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`${what} must be an object`);
    return v as Fields;
  }

  /** Refuses fields the message does not define: a typo would otherwise be silently ignored. */
  only(o: Fields, allowed: readonly string[], what: string, optional: readonly string[] = []): void {
    for (const key of Object.keys(o)) {
      if (key !== 'type' && !allowed.includes(key) && !optional.includes(key)) this.fail(`${what} has an unknown field '${key}'`);
    }
    for (const key of allowed) if (!(key in o)) this.fail(`${what} is missing the field '${key}'`);
  }

  /** An optional string field: absent is undefined, present must be valid. */
  optionalString(o: Fields, key: string, what: string, max: number): string | undefined {
    return o[key] === undefined ? undefined : this.string(o, key, what, max);
  }

  string(o: Fields, key: string, what: string, max: number): string {
    const v = o[key];
    if (typeof v !== 'string' || v.length === 0 || v.length > max) {
      this.fail(`${what}.${key} must be a non-empty string of at most ${max} characters`);
    }
    return v;
  }

  integer(o: Fields, key: string, what: string): number {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) this.fail(`${what}.${key} must be an integer >= 1`);
    return v;
  }
}

function decodeJson(data: Buffer): Fields {
  let v: unknown;
  try {
    v = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw new EnrollmentError(EnrollmentErrorCodes.PROTOCOL, `message is not JSON: ${(err as Error).message}`);
  }
  return new Reader(null).object(v, 'message');
}

/** The id of a message, if it has a readable one: so even a refusal can name its request. */
function idOf(o: Fields): string | null {
  return typeof o.id === 'string' && o.id.length > 0 && o.id.length <= MAX_ID ? o.id : null;
}

function messageType<T extends string>(r: Reader, o: Fields, known: Record<T, readonly string[]>, optional: Partial<Record<T, readonly string[]>> = {}): T {
  const type = o.type;
  if (typeof type !== 'string') r.fail("message.type must be a string");
  if (!Object.prototype.hasOwnProperty.call(known, type)) {
    r.fail(`message.type '${type}' is unknown; expected one of ${Object.keys(known).join(', ')}`);
  }
  r.only(o, known[type as T], type, optional[type as T]);
  return type as T;
}

/** Checks a pod's fields (the agent on receipt, the client before sending). */
export function readPod(v: unknown, id: string | null = null, what = 'pod'): PodInfo {
  const r = new Reader(id);
  const o = r.object(v, what);
  r.only(o, POD_FIELDS, what);
  return podFields(r, o, what, true) as PodInfo;
}

/** Checks the pod of a cni_add (no serviceAccount: the agent knows it from its config). */
export function readCniPod(v: unknown, id: string | null = null, what = 'pod'): CniPodInfo {
  const r = new Reader(id);
  const o = r.object(v, what);
  r.only(o, CNI_POD_FIELDS, what);
  return podFields(r, o, what, false);
}

function podFields(r: Reader, o: Fields, what: string, withServiceAccount: boolean): CniPodInfo & { serviceAccount?: string } {
  const uid = r.string(o, 'uid', what, 128);
  const name = r.string(o, 'name', what, 253);
  const namespace = r.string(o, 'namespace', what, 63);
  const serviceAccount = withServiceAccount ? r.string(o, 'serviceAccount', what, 253) : undefined;
  const cgroupPath = r.string(o, 'cgroupPath', what, 4096);
  if (!cgroupPath.startsWith('/') || cgroupPath.includes('\0')) r.fail(`${what}.cgroupPath must be an absolute path`);
  const ips: unknown[] = Array.isArray(o.ips) ? o.ips : r.fail(`${what}.ips must be an array of addresses`);
  if (ips.length > MAX_IPS) r.fail(`${what}.ips must have at most ${MAX_IPS} addresses`);
  ips.forEach((ip, i) => {
    if (typeof ip !== 'string' || net.isIP(ip) === 0) r.fail(`${what}.ips[${i}] must be an IPv4 or IPv6 address`);
  });
  const pod = { uid, name, namespace, cgroupPath, ips: [...(ips as string[])] };
  return serviceAccount === undefined ? pod : { uid, name, namespace, serviceAccount, cgroupPath, ips: pod.ips };
}

/** Reads a client's message and checks the fds it came with. Throws EnrollmentError (PROTOCOL). */
export function parseClientMessage(data: Buffer, fdCount: number): ClientMessage {
  const o = decodeJson(data);
  const r = new Reader(idOf(o));
  const type = messageType(r, o, CLIENT_FIELDS, OPTIONAL_FIELDS);
  const wantFds = type === 'add' || type === 'cni_add' ? 1 : 0;
  if (fdCount !== wantFds) {
    r.fail(
      wantFds === 1
        ? `${type} carries the pod's network namespace as exactly one fd, got ${fdCount}`
        : `${type} carries no fds, got ${fdCount}`,
    );
  }
  switch (type) {
    case 'hello':
      return { type, version: r.integer(o, 'version', type), client: r.string(o, 'client', type, 128) };
    case 'add': {
      const id = r.string(o, 'id', type, MAX_ID);
      return { type, id, pod: readPod(o.pod, id, 'add.pod') };
    }
    case 'cni_add': {
      const id = r.string(o, 'id', type, MAX_ID);
      const pod = readCniPod(o.pod, id, 'cni_add.pod');
      const sandbox = r.optionalString(o, 'sandbox', type, MAX_SANDBOX);
      return sandbox === undefined ? { type, id, pod } : { type, id, pod, sandbox };
    }
    case 'keep':
      return { type, id: r.string(o, 'id', type, MAX_ID), uid: r.string(o, 'uid', type, 128) };
    case 'del': {
      const id = r.string(o, 'id', type, MAX_ID);
      const uid = r.string(o, 'uid', type, 128);
      const sandbox = r.optionalString(o, 'sandbox', type, MAX_SANDBOX);
      return sandbox === undefined ? { type, id, uid } : { type, id, uid, sandbox };
    }
    case 'snapshot_sent':
      return { type, id: r.string(o, 'id', type, MAX_ID) };
  }
}

/** Reads the agent's message. Throws EnrollmentError (PROTOCOL). */
export function parseAgentMessage(data: Buffer): AgentMessage {
  const o = decodeJson(data);
  const r = new Reader(idOf(o));
  const type = messageType(r, o, AGENT_FIELDS);
  switch (type) {
    case 'hello':
      return { type, version: r.integer(o, 'version', type), node: r.string(o, 'node', type, 253) };
    case 'ack':
      return { type, id: r.string(o, 'id', type, MAX_ID) };
    case 'nack':
      return {
        type,
        id: o.id === null ? null : r.string(o, 'id', type, MAX_ID),
        code: r.string(o, 'code', type, 128),
        reason: r.string(o, 'reason', type, 4096),
      };
    case 'not_ambient':
      return { type, id: r.string(o, 'id', type, MAX_ID), reason: r.string(o, 'reason', type, 4096) };
  }
}

export function encodeMessage(msg: ClientMessage | AgentMessage): Buffer {
  const data = Buffer.from(JSON.stringify(msg), 'utf8');
  if (data.length > ENROLLMENT_MAX_MESSAGE) {
    throw new EnrollmentError(
      EnrollmentErrorCodes.PROTOCOL,
      `${msg.type} message is ${data.length} bytes, more than the ${ENROLLMENT_MAX_MESSAGE} allowed`,
    );
  }
  return data;
}

/** A nack's reason: the failure's message, bounded so the nack always fits one message. */
export function nackReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.length > 0 ? text : 'failed').slice(0, 4096);
}

/** A nack's code: the failure's own stable code when it has one. */
export function nackCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length > 0 && code.length <= 128 ? code : EnrollmentErrorCodes.FAILED;
}
