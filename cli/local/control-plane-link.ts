// The embedded control plane of `ambit local`: started on the status overlay (so it sees pods with
// IPs, nodes and readiness like on Kubernetes), with bootstrap-token node authentication. Each
// simulated node gets a token at <stateDir>/control-plane/nodes/<node>/token for its agent. Pods
// (waypoints) reach it on a unix socket, <stateDir>/control-plane/grpc.sock: the runtime's loopback
// listener is in another network namespace than theirs, a socket file is not.
import path from 'node:path';
import type { Logger } from '../../common/log';
import { BootstrapTokenAuthenticator } from '../../control-plane/auth/bootstrap-token-authenticator';
import { startControlPlane } from '../../control-plane/control-plane';
import type { ControlPlaneHooks } from './runtime';

export interface ControlPlaneLinkOptions {
  /** The control plane's own state (CA, node tokens): <stateDir>/control-plane. */
  stateDir: string;
  grpcListen: string;
  httpListen: string;
  logger: Logger;
}

export function controlPlaneLink(opts: ControlPlaneLinkOptions): ControlPlaneHooks {
  const authenticator = new BootstrapTokenAuthenticator(opts.stateDir);
  const podSocket = path.join(opts.stateDir, 'grpc.sock');
  return {
    podAddress: `unix:${podSocket}`,
    start: (overlay, dashboardDial) =>
      startControlPlane({
        sources: [overlay],
        stateDir: opts.stateDir,
        nodeAuthenticator: authenticator,
        grpcListen: opts.grpcListen,
        grpcExtraListen: [`unix:${podSocket}`],
        httpListen: opts.httpListen,
        dashboardDial,
        logger: opts.logger.child({ component: 'control-plane' }),
      }),
    issueNodeToken: (node) => authenticator.issueNodeToken(node).tokenFile,
  };
}
