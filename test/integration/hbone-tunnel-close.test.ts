/**
 * How inbound HBONE tunnels end in the agent's connection table (agent/proxy/carry.ts over
 * common/hbone/relay.ts, wired as agent/proxy/inbound-hbone.ts does it, on 127.0.0.1 with real
 * mTLS). Regression for `ambit local down` of the demo taking 20 s and ending in SIGKILL: a
 * waypoint dropping an idle keep-alive tunnel closes the stream with RST_STREAM(NO_ERROR), the
 * agent passes that on as a FIN, the app answers with its own FIN — and the relay never resolved,
 * so the entry stayed in the table for good and held pod removal and the agent's drain to their
 * deadlines.
 */
import http2, { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { carry } from '../../agent/proxy/carry';
import { ConnectionTable, type ConnectionEntry } from '../../agent/proxy/connection-table';
import type { ConnectionObserver, Outcome } from '../../agent/proxy/observer';
import { HbonePool } from '../../common/hbone/pool';
import { createHboneServer } from '../../common/hbone/server';
import type { WorkloadCertificate } from '../../common/identity/workload-certificate';
import { workloadClientTlsOptions } from '../../common/tls/options';
import { cleanupAfterEach, dialTunnelTarget, issueTestPair } from '../support/hbone-fixture';

const POD_UID = 'pod-uid-details';

let serverCert: WorkloadCertificate;
let clientCert: WorkloadCertificate;
const cleanups = cleanupAfterEach();

beforeAll(async () => {
  ({ serverCert, clientCert } = await issueTestPair());
});

interface App {
  port: number;
  /** Server-side sockets, in accept order. */
  sockets: net.Socket[];
}

/**
 * The app in the pod: echoes, answers a FIN with its own (Node's default, as an HTTP server does),
 * and on "quit" says "bye" and closes its side first.
 */
async function app(): Promise<App> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => (d.toString() === 'quit' ? s.end('bye') : s.write(d)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return { port: (server.address() as net.AddressInfo).port, sockets };
}

interface DestinationAgent {
  port: number;
  table: ConnectionTable;
  closed: Array<{ entry: ConnectionEntry; outcome: Outcome }>;
}

/** The destination agent's inbound HBONE path: dial the app, 200, carry() with a table entry. */
async function destinationAgent(appPort: number): Promise<DestinationAgent> {
  const table = new ConnectionTable();
  const closed: DestinationAgent['closed'] = [];
  const observer: ConnectionObserver = {
    opened: () => ({ received: () => undefined, sent: () => undefined }),
    closed: (entry, outcome) => closed.push({ entry, outcome }),
    failed: () => undefined,
  };
  const hbone = createHboneServer({
    certificate: serverCert,
    onTunnel: (req) => {
      dialTunnelTarget(req, (upstream) => {
        const entry = table.add({
          direction: 'inbound',
          transport: 'hbone',
          source: { address: req.remoteAddress, port: req.remotePort, identity: req.peer.uri },
          destination: { address: req.authority.host, port: req.authority.port, identity: serverCert.identity.uri },
          podUid: POD_UID,
          close: () => undefined,
        });
        void carry(table, observer, entry, req.accept(), upstream);
      });
    },
  });
  await hbone.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => hbone.close());
  return { port: hbone.address().port, table, closed };
}

function socketClosed(s: net.Socket): Promise<void> {
  return s.destroyed ? Promise.resolve() : new Promise((r) => s.once('close', () => r()));
}

/** Resolves with what arrived once the stream's END_STREAM did. */
function readToEnd(stream: ClientHttp2Stream): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    stream.on('data', (c: Buffer) => (got += c.toString()));
    stream.once('end', () => resolve(got));
    stream.once('error', reject);
  });
}

function firstData(stream: ClientHttp2Stream): Promise<string> {
  return new Promise((resolve) => stream.once('data', (c: Buffer) => resolve(c.toString())));
}

describe('inbound HBONE connection-table entries end with their tunnel', () => {
  it('closes the entry when the peer drops the tunnel with RST_STREAM(NO_ERROR) and the app answers our FIN', async () => {
    const { port: appPort, sockets } = await app();
    const agent = await destinationAgent(appPort);
    const pool = new HbonePool();
    cleanups.push(() => pool.close());
    const tunnel = await pool.open({
      scope: 'waypoint',
      source: clientCert,
      destinationAddress: '127.0.0.1',
      destinationPort: agent.port,
      expectedIdentity: serverCert.identity.uri,
      authority: `127.0.0.1:${appPort}`,
    });
    const echoed = firstData(tunnel.stream);
    tunnel.stream.write('ping');
    expect(await echoed).toBe('ping');
    expect(agent.table.size).toBe(1);

    // What Node's http.Agent does to an idle keep-alive tunnel (waypoint/upstream): destroy() it,
    // which sends RST_STREAM(NO_ERROR) without an END_STREAM of its own.
    tunnel.stream.destroy();

    // agent.drain() and pod removal wait exactly like this.
    expect(await agent.table.waitEmpty(3_000, POD_UID)).toBe(true);
    await socketClosed(sockets[0]);
    expect(agent.closed).toHaveLength(1);
    expect(agent.closed[0].outcome).toMatchObject({ flags: '-', error: undefined });
    expect(agent.closed[0].entry.bytesReceived).toBe(4);
    expect(agent.closed[0].entry.bytesSent).toBe(4);
  });

  it("closes every stream's entry when the peer's TLS connection dies, whether or not the app had closed its side", async () => {
    const { port: appPort, sockets } = await app();
    const agent = await destinationAgent(appPort);
    const socket = tls.connect({ host: '127.0.0.1', port: agent.port, ...workloadClientTlsOptions(clientCert, { identities: serverCert.identity.uri }) });
    const session: ClientHttp2Session = http2.connect(`https://127.0.0.1:${agent.port}`, { createConnection: () => socket });
    session.on('error', () => undefined);
    cleanups.push(() => session.destroy());
    await new Promise((r) => session.once('remoteSettings', r));

    const streams: ClientHttp2Stream[] = [];
    for (let i = 0; i < 6; i++) {
      const stream = session.request({ ':method': 'CONNECT', ':authority': `127.0.0.1:${appPort}` }, { endStream: false });
      stream.on('error', () => undefined);
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        stream.once('response', resolve);
        stream.once('error', reject);
      });
      expect(headers[':status']).toBe(200);
      streams.push(stream);
    }
    // Half of them: the app closed its side (END_STREAM reached the client), ours is still open.
    for (const stream of streams.slice(0, 3)) {
      const said = readToEnd(stream);
      stream.write('quit');
      expect(await said).toBe('bye');
    }
    // The other half is mid-conversation.
    for (const stream of streams.slice(3)) {
      const echoed = firstData(stream);
      stream.write('still here');
      expect(await echoed).toBe('still here');
    }
    expect(agent.table.size).toBe(6);

    // The peer process dies: its TCP connection goes away under the session.
    socket.destroy();

    expect(await agent.table.waitEmpty(3_000, POD_UID)).toBe(true);
    expect(agent.closed).toHaveLength(6);
    await Promise.all(sockets.map(socketClosed));
  });

  it('closes the entry after a clean close in both directions, whichever side ended first', async () => {
    const { port: appPort, sockets } = await app();
    const agent = await destinationAgent(appPort);
    const pool = new HbonePool();
    cleanups.push(() => pool.close());
    const open = () =>
      pool.open({
        scope: 'waypoint',
        source: clientCert,
        destinationAddress: '127.0.0.1',
        destinationPort: agent.port,
        expectedIdentity: serverCert.identity.uri,
        authority: `127.0.0.1:${appPort}`,
      });
    // The app ends first ("quit" -> "bye" + FIN), then the client; then the client ends first.
    const appFirst = await open();
    const bye = readToEnd(appFirst.stream);
    appFirst.stream.write('quit');
    expect(await bye).toBe('bye');
    appFirst.stream.end();
    const clientFirst = await open();
    const rest = readToEnd(clientFirst.stream);
    clientFirst.stream.end('last words');
    expect(await rest).toBe('last words');

    expect(await agent.table.waitEmpty(3_000, POD_UID)).toBe(true);
    await Promise.all(sockets.map(socketClosed));
    expect(agent.closed.map((c) => c.outcome)).toEqual([
      { flags: '-', error: undefined, policy: undefined },
      { flags: '-', error: undefined, policy: undefined },
    ]);
  });
});
