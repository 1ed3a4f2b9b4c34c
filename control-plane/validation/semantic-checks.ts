/**
 * Per-kind checks JSON Schema cannot express (uniqueness, field combinations, cross-field
 * constraints), matching what the upstream API servers reject. They are written to run on any
 * document, so their issues are reported together with the schema's.
 */
import type { SupportedKind } from '../kube/objects';
import { IssueList, type Obj } from './check-helpers';
import { checkEndpointSlice, checkPod, checkService } from './checks-core';
import { checkGRPCRoute, checkGateway, checkHTTPRoute } from './checks-gateway-api';
import {
  checkAuthorizationPolicy,
  checkDestinationRule,
  checkFaultInjection,
  checkLocalRateLimit,
  checkPeerAuthentication,
  checkRequestAuthentication,
} from './checks-istio';
import type { ValidationIssue } from './validation-issue';

type Check = (doc: Obj, issues: IssueList) => void;

const CHECKS: Partial<Record<SupportedKind, Check>> = {
  Pod: checkPod,
  Service: checkService,
  EndpointSlice: checkEndpointSlice,
  AuthorizationPolicy: checkAuthorizationPolicy,
  PeerAuthentication: checkPeerAuthentication,
  RequestAuthentication: checkRequestAuthentication,
  DestinationRule: checkDestinationRule,
  Gateway: checkGateway,
  HTTPRoute: checkHTTPRoute,
  GRPCRoute: checkGRPCRoute,
  FaultInjection: checkFaultInjection,
  LocalRateLimit: checkLocalRateLimit,
};

export function semanticIssues(kind: SupportedKind, doc: Obj): ValidationIssue[] {
  const issues = new IssueList();
  CHECKS[kind]?.(doc, issues);
  return issues.items;
}
