/**
 * Named diagnostics_channel channels the agent and the waypoint publish on, so tests, the dashboard
 * or an APM tool can watch connections, tunnels, policy denials and requests without a code hook.
 * Names are `ambit:<thing>:<event>` and stable; message shapes are append-only.
 *
 * Publishing costs one boolean check when nobody subscribes: `publish` is skipped, and
 * `publishWith` does not even build its message (undici and Node's http do the same).
 */
import diagnosticsChannel from 'node:diagnostics_channel';

export const ChannelNames = {
  connectionOpen: 'ambit:connection:open',
  connectionClose: 'ambit:connection:close',
  tunnelOpen: 'ambit:tunnel:open',
  tunnelClose: 'ambit:tunnel:close',
  policyDeny: 'ambit:policy:deny',
  requestStart: 'ambit:request:start',
  requestEnd: 'ambit:request:end',
} as const;

export type ChannelName = (typeof ChannelNames)[keyof typeof ChannelNames];

/** Seen from the reporting proxy: outbound = from a local client, inbound = to a local server. */
export type TrafficDirection = 'inbound' | 'outbound';

/** An accepted (captured or HBONE) connection the agent will proxy. */
export interface ConnectionOpenMessage {
  /** Unique within the process; the close message carries the same id. */
  readonly id: string;
  readonly direction: TrafficDirection;
  /** "ip:port" of the client side. */
  readonly src: string;
  /** "ip:port" the client meant to reach (original destination). */
  readonly dst: string;
  /** HBONE :authority when tunnelled, e.g. "10.0.0.7:8080". */
  readonly hboneAddr?: string;
  readonly sourceWorkload?: string;
  readonly sourceNamespace?: string;
  readonly destinationWorkload?: string;
  readonly destinationNamespace?: string;
  readonly destinationService?: string;
  /** Epoch milliseconds. */
  readonly startTime: number;
}

export interface ConnectionCloseMessage {
  readonly id: string;
  readonly direction: TrafficDirection;
  readonly src: string;
  readonly dst: string;
  readonly durationMs: number;
  /** Client -> server bytes (Istio's "received"). */
  readonly bytesClientToServer: number;
  /** Server -> client bytes (Istio's "sent"). */
  readonly bytesServerToClient: number;
  /** Envoy-style response flags, "-" when none. */
  readonly responseFlags: string;
  readonly error?: string;
}

/** An HBONE (HTTP/2 over mTLS) connection between two proxies; it carries many streams. */
export interface TunnelOpenMessage {
  readonly id: string;
  readonly direction: TrafficDirection;
  /** "ip:port" of the other proxy. */
  readonly peer: string;
  readonly localIdentity?: string;
  readonly peerIdentity?: string;
  readonly startTime: number;
}

export interface TunnelCloseMessage {
  readonly id: string;
  readonly direction: TrafficDirection;
  readonly peer: string;
  readonly durationMs: number;
  /** CONNECT streams the tunnel carried over its life. */
  readonly streams: number;
  readonly error?: string;
}

/** A connection or request refused by authorization (AuthorizationPolicy or PeerAuthentication). */
export interface PolicyDenyMessage {
  readonly direction: TrafficDirection;
  readonly src: string;
  readonly dst: string;
  readonly sourcePrincipal?: string;
  readonly destinationWorkload?: string;
  readonly destinationNamespace?: string;
  /** "<namespace>/<name>" of the deciding policy, when one decided. */
  readonly policy?: string;
  /** Short reason for operators, e.g. "no ALLOW policy matched". */
  readonly reason: string;
}

/** Waypoint: an L7 request has been received and routed. */
export interface RequestStartMessage {
  readonly id: string;
  readonly method: string;
  readonly authority: string;
  readonly path: string;
  /** "http" | "http2" | "grpc". */
  readonly protocol: string;
  readonly sourcePrincipal?: string;
  readonly traceparent?: string;
  readonly startTime: number;
}

export interface RequestEndMessage {
  readonly id: string;
  /** HTTP status sent downstream (0 when the stream was reset before a response). */
  readonly status: number;
  readonly durationMs: number;
  /** "ip:port" of the endpoint that answered, if any. */
  readonly upstream?: string;
  readonly responseFlags: string;
  readonly error?: string;
}

export interface TypedChannel<T> {
  readonly name: ChannelName;
  /** True while at least one subscriber listens. */
  readonly hasSubscribers: boolean;
  /** Publishes `message` when someone listens. */
  publish(message: T): void;
  /** Builds and publishes the message only when someone listens. */
  publishWith(build: () => T): void;
  /** Subscribes; returns the function that unsubscribes (idempotent). */
  subscribe(listener: (message: T) => void): () => void;
}

function typedChannel<T>(name: ChannelName): TypedChannel<T> {
  // Held for the life of the process: Node keeps channels weakly, and publish() must keep reaching
  // subscribers added through diagnostics_channel.subscribe(name) by code that never imports this file.
  const channel = diagnosticsChannel.channel(name);
  return {
    name,
    get hasSubscribers() {
      return channel.hasSubscribers;
    },
    publish(message) {
      if (channel.hasSubscribers) channel.publish(message);
    },
    publishWith(build) {
      if (channel.hasSubscribers) channel.publish(build());
    },
    subscribe(listener) {
      const onMessage = (message: unknown): void => listener(message as T);
      diagnosticsChannel.subscribe(name, onMessage);
      let subscribed = true;
      return () => {
        if (!subscribed) return;
        subscribed = false;
        diagnosticsChannel.unsubscribe(name, onMessage);
      };
    },
  };
}

/** The channels, one per event. */
export const Diagnostics = {
  connectionOpen: typedChannel<ConnectionOpenMessage>(ChannelNames.connectionOpen),
  connectionClose: typedChannel<ConnectionCloseMessage>(ChannelNames.connectionClose),
  tunnelOpen: typedChannel<TunnelOpenMessage>(ChannelNames.tunnelOpen),
  tunnelClose: typedChannel<TunnelCloseMessage>(ChannelNames.tunnelClose),
  policyDeny: typedChannel<PolicyDenyMessage>(ChannelNames.policyDeny),
  requestStart: typedChannel<RequestStartMessage>(ChannelNames.requestStart),
  requestEnd: typedChannel<RequestEndMessage>(ChannelNames.requestEnd),
} as const;
