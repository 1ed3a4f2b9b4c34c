/**
 * `<stateDir>/node-tokens.json` (0600): which node holds which bootstrap token, as SHA-256 hashes
 * only, so reading the file (or a backup of it) does not let anyone act as a node.
 *
 *   { "version": 1, "nodes": { "<node>": { "sha256": "<64 hex>", "issuedAt": "<ISO time>" } } }
 */
import { isDns1123Subdomain } from '../../common/identity/spiffe';
import { ControlPlaneError, ControlPlaneErrorCodes } from '../errors';
import { exists, readPrivateFile, replacePrivateFile } from '../ca/state-files';

export interface NodeTokenRecord {
  /** SHA-256 of the token, lowercase hex. */
  readonly sha256: string;
  readonly issuedAt: string;
}

const VERSION = 1;
const HEX64 = /^[0-9a-f]{64}$/;

/** The records in `file`; an absent file is an empty set (first start). */
export function readNodeTokens(file: string): Map<string, NodeTokenRecord> {
  const records = new Map<string, NodeTokenRecord>();
  if (!exists(file)) return records;
  const text = readPrivateFile(file);
  // Annotated so that calling it narrows types (TS only treats explicitly typed `never` calls so).
  const corrupt: (why: string, cause?: unknown) => never = (why, cause) => {
    throw new ControlPlaneError(
      ControlPlaneErrorCodes.CA_STATE,
      `${file} is corrupt (${why}); delete it and issue every node a new token (ambit local up does this)`,
      { cause },
    );
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    corrupt(`not JSON: ${(e as Error).message}`, e);
  }
  if (!isObject(doc)) corrupt('not a JSON object');
  if (doc.version !== VERSION) corrupt(`version ${JSON.stringify(doc.version)}, expected ${VERSION}`);
  if (!isObject(doc.nodes)) corrupt('"nodes" is not an object');
  for (const [node, rec] of Object.entries(doc.nodes)) {
    if (!isDns1123Subdomain(node)) corrupt(`"${node}" is not a node name`);
    if (!isObject(rec) || typeof rec.sha256 !== 'string' || !HEX64.test(rec.sha256) || typeof rec.issuedAt !== 'string') {
      corrupt(`the entry of node "${node}" is not {sha256: <64 hex>, issuedAt: <time>}`);
    }
    records.set(node, Object.freeze({ sha256: rec.sha256, issuedAt: rec.issuedAt }));
  }
  return records;
}

/** Replaces `file` atomically with `records`. */
export function writeNodeTokens(file: string, records: ReadonlyMap<string, NodeTokenRecord>): void {
  const nodes: Record<string, NodeTokenRecord> = {};
  for (const [node, rec] of [...records].sort(([a], [b]) => a.localeCompare(b))) nodes[node] = rec;
  replacePrivateFile(file, `${JSON.stringify({ version: VERSION, nodes }, null, 2)}\n`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
