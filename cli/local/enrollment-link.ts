// The local runtime's side of a node agent's enrollment socket, playing the CNI plugin's part:
// an ambient pod is added (capture in place, acked) before its containers start and deleted after
// they stopped. The link remembers what it enrolled; whenever it (re)connects — first start, or
// after the agent restarted — it sends that set as the snapshot, so the agent resyncs and drops
// anything else. Operations run one at a time, in order.
import fs from 'node:fs';
import { EnrollmentClient } from '../../common/enrollment/client';
import type { PodInfo } from '../../common/enrollment/protocol';
import type { Logger } from '../../common/log';

export interface EnrollmentLinkOptions {
  socketPath: string;
  node: string;
  logger: Logger;
  /** How long to wait for the agent's socket before an add fails. */
  connectTimeoutMs?: number;
  onResync?: (pods: number) => void;
}

interface Enrolled {
  info: PodInfo;
  netnsPath: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class EnrollmentLink {
  private readonly pods = new Map<string, Enrolled>();
  private client: EnrollmentClient | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly opts: EnrollmentLinkOptions) {}

  get enrolledUids(): ReadonlySet<string> {
    return new Set(this.pods.keys());
  }

  /** Connects and sends the (possibly empty) snapshot, so the agent knows it has all pods. */
  sync(): Promise<void> {
    return this.run(async () => void (await this.connected()));
  }

  /** Enrolls a pod; resolves when the agent acked (capture is in place). */
  add(info: PodInfo, netnsPath: string): Promise<void> {
    return this.run(async () => {
      const client = await this.connected();
      await sendAdd(client, info, netnsPath);
      this.pods.set(info.uid, { info, netnsPath });
    });
  }

  /** Takes a pod out of the mesh (the agent drains its connections first). */
  del(uid: string): Promise<void> {
    return this.run(async () => {
      if (!this.pods.delete(uid)) return;
      const client = await this.connected().catch(() => undefined);
      // No agent: nothing is enrolled there any more either; its next snapshot will not list it.
      await client?.del(uid);
    });
  }

  close(): void {
    this.closed = true;
    this.client?.close();
    this.client = undefined;
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The live client, connecting (and resending the snapshot) when there is none. */
  private async connected(): Promise<EnrollmentClient> {
    if (this.client && !this.client.closed) return this.client;
    const deadline = Date.now() + (this.opts.connectTimeoutMs ?? 120_000);
    let lastError: unknown;
    while (!this.closed && Date.now() < deadline) {
      try {
        const client = await EnrollmentClient.connect(this.opts.socketPath, { client: `ambit-local (${this.opts.node})`, timeoutMs: 15_000 });
        await this.sendSnapshot(client);
        this.client = client;
        void client.whenClosed().then((why) => {
          if (this.client === client) this.client = undefined;
          if (why && !this.closed) {
            this.opts.logger.warn({ node: this.opts.node, reason: why.message }, 'agent enrollment connection lost; resyncing when it is back');
            // Resync in the background so a restarted agent captures the pods again without waiting for the next pod change.
            void this.run(() => this.connected()).catch((e: Error) => this.opts.logger.error({ err: e, node: this.opts.node }, 'resync failed'));
          }
        });
        return client;
      } catch (e) {
        lastError = e;
        await sleep(200);
      }
    }
    throw new Error(`the agent of node ${this.opts.node} did not take enrollments at ${this.opts.socketPath}: ${(lastError as Error)?.message ?? 'closed'}`);
  }

  private async sendSnapshot(client: EnrollmentClient): Promise<void> {
    for (const [uid, p] of [...this.pods]) {
      try {
        await sendAdd(client, p.info, p.netnsPath);
      } catch (e) {
        // The pod's sandbox is gone (being deleted): leave it out of the snapshot.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') this.pods.delete(uid);
        else throw e;
      }
    }
    await client.snapshotSent();
    this.opts.onResync?.(this.pods.size);
  }
}

async function sendAdd(client: EnrollmentClient, info: PodInfo, netnsPath: string): Promise<void> {
  const fd = fs.openSync(netnsPath, 'r');
  try {
    await client.add(info, fd);
  } finally {
    fs.closeSync(fd);
  }
}
