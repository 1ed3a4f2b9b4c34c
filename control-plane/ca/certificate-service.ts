/**
 * ambit.v1.CertificateService over grpc-js: authenticate the node, then let the CA decide.
 * ControlPlaneErrors become their gRPC status (grpcStatusOf) with the message as `details` and
 * the stable AMBIT_ERR_* code in the `ambit-error-code` trailer, so an agent can tell "fix your
 * CSR" from "not scheduled here" without parsing text. Anything else is INTERNAL with a generic
 * message: internals stay in the control plane's log.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../common/log';
import { certificateServiceDefinition } from '../../common/proto/load';
import type { CertificateServiceHandlers } from '../../common/proto/generated/ambit/v1/CertificateService';
import type { CreateCertificateRequest__Output } from '../../common/proto/generated/ambit/v1/CreateCertificateRequest';
import type { CreateCertificateResponse } from '../../common/proto/generated/ambit/v1/CreateCertificateResponse';
import { ControlPlaneError, grpcStatusOf } from '../errors';
import type { AuthenticatedNode, NodeAuthenticator } from '../auth/node-authenticator';
import { auditRefused } from './audit';
import type { CertificateIssuer } from './certificate-authority';

export const ERROR_CODE_METADATA = 'ambit-error-code';

export interface CertificateServiceDeps {
  ca: CertificateIssuer;
  authenticator: NodeAuthenticator;
  logger: Logger;
}

export function addCertificateService(server: grpc.Server, deps: CertificateServiceDeps): void {
  const logger = deps.logger.child({ component: 'certificate-service' });
  const handlers: CertificateServiceHandlers = {
    CreateCertificate(call, callback) {
      createCertificate(call, deps, logger).then(
        (response) => callback(null, response),
        (err: unknown) => callback(toStatus(err, logger)),
      );
    },
  };
  server.addService(certificateServiceDefinition(), handlers);
}

async function createCertificate(
  call: grpc.ServerUnaryCall<CreateCertificateRequest__Output, CreateCertificateResponse>,
  deps: CertificateServiceDeps,
  logger: Logger,
): Promise<CreateCertificateResponse> {
  const req = call.request;
  const peer = call.getPeer();
  let caller: AuthenticatedNode;
  try {
    caller = await deps.authenticator.authenticate(call.metadata);
  } catch (e) {
    // The CA audits its own refusals; a caller that never got past authentication is audited here.
    auditRefused(logger, {
      node: undefined,
      identity: req.identity,
      code: e instanceof ControlPlaneError ? e.code : 'INTERNAL',
      reason: e instanceof ControlPlaneError ? e.message : `internal error: ${(e as Error).message}`,
      peer,
    });
    throw e;
  }
  const issued = await deps.ca.issue({
    node: caller.node,
    workload: caller.workload,
    csr: req.csr,
    identity: req.identity,
    validitySeconds: req.validitySeconds,
    peer,
  });
  return { certChain: issued.certChain, trustBundle: issued.trustBundle };
}

function toStatus(err: unknown, logger: Logger): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (err instanceof ControlPlaneError) {
    metadata.set(ERROR_CODE_METADATA, err.code);
    return { code: grpcStatusOf(err), details: err.message, metadata };
  }
  logger.error({ err }, 'CreateCertificate failed unexpectedly');
  return { code: grpc.status.INTERNAL, details: 'internal error in the certificate service; see the control-plane log', metadata };
}
