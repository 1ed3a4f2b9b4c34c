/**
 * Node credentials for local mode: `ambit local up` issues each node a random 256-bit token,
 * hands it to that node's agent in `<stateDir>/nodes/<node>/token` (0600, directory 0700), and
 * keeps only its SHA-256 in `<stateDir>/node-tokens.json`. A presented token is hashed and
 * compared against every node's hash in constant time, so response timing reveals nothing about
 * how close a guess was or which node it matched.
 */
import type { Metadata } from '@grpc/grpc-js';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isDns1123Subdomain } from '../../common/identity/spiffe';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';
import { ensurePrivateDir, PRIVATE_DIR_MODE, replacePrivateFile } from '../ca/state-files';
import { AuthenticatedNode, bearerToken, NodeAuthenticator, unauthenticated } from './node-authenticator';
import { NodeTokenRecord, readNodeTokens, writeNodeTokens } from './node-token-file';

export const NODE_TOKENS_FILE = 'node-tokens.json';
const TOKEN_BYTES = 32;
/** base64url of 32 bytes, unpadded. */
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

export interface IssuedNodeToken {
  readonly node: string;
  /** The secret itself; also written to `tokenFile` for the agent. */
  readonly token: string;
  readonly tokenFile: string;
}

export class BootstrapTokenAuthenticator implements NodeAuthenticator {
  private readonly file: string;
  private readonly records: Map<string, NodeTokenRecord>;
  /** Decoded hashes, in step with `records`, for the comparison loop. */
  private readonly hashes = new Map<string, Buffer>();

  /** Loads the node tokens under `stateDir` (none on first start). */
  constructor(private readonly stateDir: string) {
    // The state directory may be shared with other components; create it private, but leave the
    // mode of an existing one to its owner. What is secret below it is checked file by file.
    fs.mkdirSync(stateDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    this.file = path.join(stateDir, NODE_TOKENS_FILE);
    this.records = readNodeTokens(this.file);
    for (const [node, rec] of this.records) this.hashes.set(node, Buffer.from(rec.sha256, 'hex'));
  }

  /** Where the agent of `node` finds its token. */
  tokenFile(node: string): string {
    return path.join(this.stateDir, 'nodes', checkNode(node), 'token');
  }

  /** Nodes holding a token. */
  nodes(): string[] {
    return [...this.records.keys()].sort();
  }

  /** Issues `node` a new token, replacing (and so revoking) any previous one. */
  issueNodeToken(node: string): IssuedNodeToken {
    const tokenFile = this.tokenFile(node);
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const hash = sha256(token);
    const record = Object.freeze({ sha256: hash.toString('hex'), issuedAt: new Date().toISOString() });
    const records = new Map(this.records).set(node, record);
    // The hash is persisted before the agent can see the token, so a token an agent holds is
    // always one a restarted control plane knows.
    writeNodeTokens(this.file, records);
    this.records.set(node, record);
    this.hashes.set(node, hash);
    ensurePrivateDir(path.dirname(tokenFile));
    replacePrivateFile(tokenFile, token);
    return { node, token, tokenFile };
  }

  /** Forgets `node`'s token (and deletes its token file); false when it had none. */
  revoke(node: string): boolean {
    const tokenFile = this.tokenFile(node);
    if (!this.records.has(node)) return false;
    const records = new Map(this.records);
    records.delete(node);
    writeNodeTokens(this.file, records);
    this.records.delete(node);
    this.hashes.delete(node);
    fs.rmSync(tokenFile, { force: true });
    return true;
  }

  authenticate(metadata: Metadata): AuthenticatedNode {
    const token = bearerToken(metadata);
    if (!TOKEN_FORMAT.test(token)) throw unauthenticated('malformed node token; use the token from <stateDir>/nodes/<node>/token');
    const presented = sha256(token);
    let match: string | undefined;
    // No early exit: every stored hash is compared whatever the outcome.
    for (const [node, hash] of this.hashes) {
      if (timingSafeEqual(presented, hash) && match === undefined) match = node;
    }
    if (match === undefined) {
      throw unauthenticated(
        'unknown node token (revoked, reissued, or from another control plane); use the current <stateDir>/nodes/<node>/token',
      );
    }
    return { node: match };
  }
}

function sha256(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Node names become path components: only Kubernetes node names (DNS-1123 subdomains) pass. */
function checkNode(node: string): string {
  if (!isDns1123Subdomain(node)) {
    throw new ControlPlaneError(
      ControlPlaneErrorCodes.INVALID_OPTION,
      `node name "${node}" is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253)`,
    );
  }
  return node;
}
