/**
 * One certificate request, start to finish:
 *
 *   fresh P-256 key + CSR -> CreateCertificate (Bearer node token, deadline) -> verify the chain
 *     (leaf SAN = requested identity, leaf key = our key, chains to the returned bundle) -> WorkloadCertificate
 *
 * A chain that fails any check is never used: a CA bug or a man in the middle must not hand a
 * workload someone else's identity, or a certificate for a key it does not hold.
 */
import * as grpc from '@grpc/grpc-js';
import { createPublicKey } from 'node:crypto';
import { createKeyAndCsr } from '../identity/csr';
import type { SpiffeId } from '../identity/spiffe';
import { verifySvidChain } from '../identity/verify';
import type { WorkloadCertificate } from '../identity/workload-certificate';
import { parseCertificates, spkiDer, toPem } from '../identity/x509';
import type { CertificateServiceClient } from '../proto/generated/ambit/v1/CertificateService';
import type { CreateCertificateResponse__Output } from '../proto/generated/ambit/v1/CreateCertificateResponse';
import { closedError, fromGrpcError, IdentityError, IdentityErrorCodes } from './identity-errors';
import { NodeTokenSource, readNodeToken } from './node-token';

/** What the certificate manager needs of "get me a certificate": one call per attempt. */
export interface CertificateRequester {
  request(identity: SpiffeId, validitySeconds: number): Promise<WorkloadCertificate>;
  /** Cancels calls in flight (they reject with CLOSED). */
  cancelAll(): void;
}

export interface GrpcCertificateRequesterOptions {
  client: CertificateServiceClient;
  /** host:port, for error messages. */
  address: string;
  nodeToken: NodeTokenSource;
  /** Deadline of one call. */
  requestTimeoutMs: number;
}

export class GrpcCertificateRequester implements CertificateRequester {
  private readonly calls = new Set<grpc.ClientUnaryCall>();
  private cancelled = false;

  constructor(private readonly opts: GrpcCertificateRequesterOptions) {}

  async request(identity: SpiffeId, validitySeconds: number): Promise<WorkloadCertificate> {
    const token = await readNodeToken(this.opts.nodeToken);
    const { keyPem, csrPem } = await createKeyAndCsr(identity);
    const response = await this.call(identity, { csr: csrPem, identity: identity.uri, validitySeconds }, token);
    return checkedCertificate(identity, keyPem, response);
  }

  cancelAll(): void {
    this.cancelled = true;
    for (const call of this.calls) call.cancel();
    this.calls.clear();
  }

  private call(
    identity: SpiffeId,
    req: { csr: string; identity: string; validitySeconds: number },
    token: string,
  ): Promise<CreateCertificateResponse__Output> {
    const cancelled = (): IdentityError => closedError(`certificate request for ${identity.uri} cancelled: the certificate manager closed`);
    if (this.cancelled) return Promise.reject(cancelled());
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    return new Promise((resolve, reject) => {
      const call = this.opts.client.createCertificate(
        req,
        metadata,
        { deadline: Date.now() + this.opts.requestTimeoutMs },
        (err, response) => {
          this.calls.delete(call);
          if (err) {
            reject(err.code === grpc.status.CANCELLED && this.cancelled ? cancelled() : fromGrpcError(err, identity.uri, this.opts.address));
          } else if (response === undefined) {
            reject(new IdentityError(IdentityErrorCodes.UNAVAILABLE, `empty CreateCertificate response for ${identity.uri}`));
          } else {
            resolve(response);
          }
        },
      );
      this.calls.add(call);
    });
  }
}

/** Verifies a CreateCertificate response for `identity` and our key; the certificate to use. */
export async function checkedCertificate(
  identity: SpiffeId,
  keyPem: string,
  response: Pick<CreateCertificateResponse__Output, 'certChain' | 'trustBundle'>,
): Promise<WorkloadCertificate> {
  const bad = (why: string, cause?: unknown): IdentityError =>
    new IdentityError(IdentityErrorCodes.BAD_CHAIN, `the certificate issued for ${identity.uri} was not used: ${why}`, { cause });
  if (response.trustBundle.length === 0) throw bad('the response carries no trust bundle');
  let verified;
  let chain;
  let roots;
  try {
    verified = await verifySvidChain(response.certChain, response.trustBundle);
    chain = parseCertificates(response.certChain);
    roots = parseCertificates(response.trustBundle);
  } catch (e) {
    throw bad((e as Error).message, e);
  }
  if (verified.identity.uri !== identity.uri) throw bad(`its URI SAN is ${verified.identity.uri}`);
  const ourKey = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  if (!spkiDer(chain[0]).equals(ourKey)) throw bad('it certifies a different public key than the one in our CSR');
  // The chain ends at the root; peers have the root in their bundle, so only leaf + intermediates are sent.
  const isRoot = (der: ArrayBuffer): boolean => roots.some((r) => Buffer.from(r.rawData).equals(Buffer.from(der)));
  return Object.freeze({
    identity,
    keyPem,
    certChainPem: Object.freeze(chain.filter((c) => !isRoot(c.rawData)).map(toPem)),
    trustBundlePem: Object.freeze(roots.map(toPem)),
    notBefore: verified.notBefore,
    notAfter: verified.notAfter,
  });
}
