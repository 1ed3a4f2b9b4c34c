/**
 * The agent's node credential, sent as `authorization: Bearer <token>` (RFC 6750 §2.1) on every
 * CertificateService call. A file is re-read for each request: kubelet rotates projected
 * service-account tokens in place, and `ambit local up` may re-issue a node's token.
 */
import { readFile } from 'node:fs/promises';
import { IdentityError, IdentityErrorCodes } from './identity-errors';

export type NodeTokenSource = { readonly token: string; readonly file?: undefined } | { readonly file: string; readonly token?: undefined };

/** RFC 6750 b64token: what the control plane's authenticator accepts. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

function checked(token: string, where: string): string {
  const t = token.trim();
  if (t === '') throw new IdentityError(IdentityErrorCodes.TOKEN, `the node token ${where} is empty`);
  if (!B64TOKEN.test(t)) {
    throw new IdentityError(IdentityErrorCodes.TOKEN, `the node token ${where} is not a bearer token (letters, digits, -._~+/ only)`);
  }
  return t;
}

/** Validates the source once at construction, so a typo fails at start, not at the first pod. */
export function checkNodeTokenSource(source: NodeTokenSource): void {
  if (source.token !== undefined) {
    checked(source.token, 'given inline');
  } else if (typeof source.file !== 'string' || source.file === '') {
    throw new IdentityError(IdentityErrorCodes.INVALID_ARGUMENT, 'nodeToken needs either token or file');
  }
}

/** The token to send now. Throws TOKEN when the file cannot be read or holds no token. */
export async function readNodeToken(source: NodeTokenSource): Promise<string> {
  if (source.token !== undefined) return checked(source.token, 'given inline');
  let text: string;
  try {
    text = await readFile(source.file, 'utf8');
  } catch (e) {
    throw new IdentityError(
      IdentityErrorCodes.TOKEN,
      `cannot read the node token file ${source.file}: ${(e as Error).message}; is the agent's token mounted?`,
      { cause: e },
    );
  }
  return checked(text, `in ${source.file}`);
}
