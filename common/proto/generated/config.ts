import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Ack as _ambit_v1_Ack, Ack__Output as _ambit_v1_Ack__Output } from './ambit/v1/Ack';
import type { Address as _ambit_v1_Address, Address__Output as _ambit_v1_Address__Output } from './ambit/v1/Address';
import type { Authorization as _ambit_v1_Authorization, Authorization__Output as _ambit_v1_Authorization__Output } from './ambit/v1/Authorization';
import type { BackendRef as _ambit_v1_BackendRef, BackendRef__Output as _ambit_v1_BackendRef__Output } from './ambit/v1/BackendRef';
import type { ClaimToHeader as _ambit_v1_ClaimToHeader, ClaimToHeader__Output as _ambit_v1_ClaimToHeader__Output } from './ambit/v1/ClaimToHeader';
import type { Condition as _ambit_v1_Condition, Condition__Output as _ambit_v1_Condition__Output } from './ambit/v1/Condition';
import type { ConfigServiceClient as _ambit_v1_ConfigServiceClient, ConfigServiceDefinition as _ambit_v1_ConfigServiceDefinition } from './ambit/v1/ConfigService';
import type { ConnectionPool as _ambit_v1_ConnectionPool, ConnectionPool__Output as _ambit_v1_ConnectionPool__Output } from './ambit/v1/ConnectionPool';
import type { ConsistentHash as _ambit_v1_ConsistentHash, ConsistentHash__Output as _ambit_v1_ConsistentHash__Output } from './ambit/v1/ConsistentHash';
import type { DestinationPolicy as _ambit_v1_DestinationPolicy, DestinationPolicy__Output as _ambit_v1_DestinationPolicy__Output } from './ambit/v1/DestinationPolicy';
import type { Endpoint as _ambit_v1_Endpoint, Endpoint__Output as _ambit_v1_Endpoint__Output } from './ambit/v1/Endpoint';
import type { ExtensionRef as _ambit_v1_ExtensionRef, ExtensionRef__Output as _ambit_v1_ExtensionRef__Output } from './ambit/v1/ExtensionRef';
import type { FaultInjection as _ambit_v1_FaultInjection, FaultInjection__Output as _ambit_v1_FaultInjection__Output } from './ambit/v1/FaultInjection';
import type { GrpcMethodMatch as _ambit_v1_GrpcMethodMatch, GrpcMethodMatch__Output as _ambit_v1_GrpcMethodMatch__Output } from './ambit/v1/GrpcMethodMatch';
import type { HeaderMatch as _ambit_v1_HeaderMatch, HeaderMatch__Output as _ambit_v1_HeaderMatch__Output } from './ambit/v1/HeaderMatch';
import type { HeaderModifier as _ambit_v1_HeaderModifier, HeaderModifier__Output as _ambit_v1_HeaderModifier__Output } from './ambit/v1/HeaderModifier';
import type { HeaderValue as _ambit_v1_HeaderValue, HeaderValue__Output as _ambit_v1_HeaderValue__Output } from './ambit/v1/HeaderValue';
import type { HttpCookie as _ambit_v1_HttpCookie, HttpCookie__Output as _ambit_v1_HttpCookie__Output } from './ambit/v1/HttpCookie';
import type { HttpPool as _ambit_v1_HttpPool, HttpPool__Output as _ambit_v1_HttpPool__Output } from './ambit/v1/HttpPool';
import type { JwtHeader as _ambit_v1_JwtHeader, JwtHeader__Output as _ambit_v1_JwtHeader__Output } from './ambit/v1/JwtHeader';
import type { JwtRule as _ambit_v1_JwtRule, JwtRule__Output as _ambit_v1_JwtRule__Output } from './ambit/v1/JwtRule';
import type { LoadBalancer as _ambit_v1_LoadBalancer, LoadBalancer__Output as _ambit_v1_LoadBalancer__Output } from './ambit/v1/LoadBalancer';
import type { LocalRateLimit as _ambit_v1_LocalRateLimit, LocalRateLimit__Output as _ambit_v1_LocalRateLimit__Output } from './ambit/v1/LocalRateLimit';
import type { Nack as _ambit_v1_Nack, Nack__Output as _ambit_v1_Nack__Output } from './ambit/v1/Nack';
import type { Operation as _ambit_v1_Operation, Operation__Output as _ambit_v1_Operation__Output } from './ambit/v1/Operation';
import type { OutlierDetection as _ambit_v1_OutlierDetection, OutlierDetection__Output as _ambit_v1_OutlierDetection__Output } from './ambit/v1/OutlierDetection';
import type { PathMatch as _ambit_v1_PathMatch, PathMatch__Output as _ambit_v1_PathMatch__Output } from './ambit/v1/PathMatch';
import type { PathModifier as _ambit_v1_PathModifier, PathModifier__Output as _ambit_v1_PathModifier__Output } from './ambit/v1/PathModifier';
import type { PeerAuthentication as _ambit_v1_PeerAuthentication, PeerAuthentication__Output as _ambit_v1_PeerAuthentication__Output } from './ambit/v1/PeerAuthentication';
import type { PolicyTargetRef as _ambit_v1_PolicyTargetRef, PolicyTargetRef__Output as _ambit_v1_PolicyTargetRef__Output } from './ambit/v1/PolicyTargetRef';
import type { PortTrafficPolicy as _ambit_v1_PortTrafficPolicy, PortTrafficPolicy__Output as _ambit_v1_PortTrafficPolicy__Output } from './ambit/v1/PortTrafficPolicy';
import type { RequestAuthentication as _ambit_v1_RequestAuthentication, RequestAuthentication__Output as _ambit_v1_RequestAuthentication__Output } from './ambit/v1/RequestAuthentication';
import type { RequestMirror as _ambit_v1_RequestMirror, RequestMirror__Output as _ambit_v1_RequestMirror__Output } from './ambit/v1/RequestMirror';
import type { RequestRedirect as _ambit_v1_RequestRedirect, RequestRedirect__Output as _ambit_v1_RequestRedirect__Output } from './ambit/v1/RequestRedirect';
import type { Resource as _ambit_v1_Resource, Resource__Output as _ambit_v1_Resource__Output } from './ambit/v1/Resource';
import type { ResourceError as _ambit_v1_ResourceError, ResourceError__Output as _ambit_v1_ResourceError__Output } from './ambit/v1/ResourceError';
import type { ResourceKey as _ambit_v1_ResourceKey, ResourceKey__Output as _ambit_v1_ResourceKey__Output } from './ambit/v1/ResourceKey';
import type { RetryBudget as _ambit_v1_RetryBudget, RetryBudget__Output as _ambit_v1_RetryBudget__Output } from './ambit/v1/RetryBudget';
import type { Route as _ambit_v1_Route, Route__Output as _ambit_v1_Route__Output } from './ambit/v1/Route';
import type { RouteFilter as _ambit_v1_RouteFilter, RouteFilter__Output as _ambit_v1_RouteFilter__Output } from './ambit/v1/RouteFilter';
import type { RouteMatch as _ambit_v1_RouteMatch, RouteMatch__Output as _ambit_v1_RouteMatch__Output } from './ambit/v1/RouteMatch';
import type { RouteParent as _ambit_v1_RouteParent, RouteParent__Output as _ambit_v1_RouteParent__Output } from './ambit/v1/RouteParent';
import type { RouteRetry as _ambit_v1_RouteRetry, RouteRetry__Output as _ambit_v1_RouteRetry__Output } from './ambit/v1/RouteRetry';
import type { RouteRule as _ambit_v1_RouteRule, RouteRule__Output as _ambit_v1_RouteRule__Output } from './ambit/v1/RouteRule';
import type { RouteTimeouts as _ambit_v1_RouteTimeouts, RouteTimeouts__Output as _ambit_v1_RouteTimeouts__Output } from './ambit/v1/RouteTimeouts';
import type { Rule as _ambit_v1_Rule, Rule__Output as _ambit_v1_Rule__Output } from './ambit/v1/Rule';
import type { Service as _ambit_v1_Service, Service__Output as _ambit_v1_Service__Output } from './ambit/v1/Service';
import type { ServicePort as _ambit_v1_ServicePort, ServicePort__Output as _ambit_v1_ServicePort__Output } from './ambit/v1/ServicePort';
import type { Source as _ambit_v1_Source, Source__Output as _ambit_v1_Source__Output } from './ambit/v1/Source';
import type { StringMatch as _ambit_v1_StringMatch, StringMatch__Output as _ambit_v1_StringMatch__Output } from './ambit/v1/StringMatch';
import type { Subscribe as _ambit_v1_Subscribe, Subscribe__Output as _ambit_v1_Subscribe__Output } from './ambit/v1/Subscribe';
import type { Subset as _ambit_v1_Subset, Subset__Output as _ambit_v1_Subset__Output } from './ambit/v1/Subset';
import type { TcpPool as _ambit_v1_TcpPool, TcpPool__Output as _ambit_v1_TcpPool__Output } from './ambit/v1/TcpPool';
import type { TrafficPolicy as _ambit_v1_TrafficPolicy, TrafficPolicy__Output as _ambit_v1_TrafficPolicy__Output } from './ambit/v1/TrafficPolicy';
import type { UrlRewrite as _ambit_v1_UrlRewrite, UrlRewrite__Output as _ambit_v1_UrlRewrite__Output } from './ambit/v1/UrlRewrite';
import type { WatchRequest as _ambit_v1_WatchRequest, WatchRequest__Output as _ambit_v1_WatchRequest__Output } from './ambit/v1/WatchRequest';
import type { WatchResponse as _ambit_v1_WatchResponse, WatchResponse__Output as _ambit_v1_WatchResponse__Output } from './ambit/v1/WatchResponse';
import type { WaypointBinding as _ambit_v1_WaypointBinding, WaypointBinding__Output as _ambit_v1_WaypointBinding__Output } from './ambit/v1/WaypointBinding';
import type { Workload as _ambit_v1_Workload, Workload__Output as _ambit_v1_Workload__Output } from './ambit/v1/Workload';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  ambit: {
    v1: {
      Ack: MessageTypeDefinition<_ambit_v1_Ack, _ambit_v1_Ack__Output>
      Address: MessageTypeDefinition<_ambit_v1_Address, _ambit_v1_Address__Output>
      Authorization: MessageTypeDefinition<_ambit_v1_Authorization, _ambit_v1_Authorization__Output>
      AuthorizationAction: EnumTypeDefinition
      BackendRef: MessageTypeDefinition<_ambit_v1_BackendRef, _ambit_v1_BackendRef__Output>
      ClaimToHeader: MessageTypeDefinition<_ambit_v1_ClaimToHeader, _ambit_v1_ClaimToHeader__Output>
      Condition: MessageTypeDefinition<_ambit_v1_Condition, _ambit_v1_Condition__Output>
      ConfigService: SubtypeConstructor<typeof grpc.Client, _ambit_v1_ConfigServiceClient> & { service: _ambit_v1_ConfigServiceDefinition }
      ConnectionPool: MessageTypeDefinition<_ambit_v1_ConnectionPool, _ambit_v1_ConnectionPool__Output>
      ConsistentHash: MessageTypeDefinition<_ambit_v1_ConsistentHash, _ambit_v1_ConsistentHash__Output>
      DestinationPolicy: MessageTypeDefinition<_ambit_v1_DestinationPolicy, _ambit_v1_DestinationPolicy__Output>
      Endpoint: MessageTypeDefinition<_ambit_v1_Endpoint, _ambit_v1_Endpoint__Output>
      ExtensionRef: MessageTypeDefinition<_ambit_v1_ExtensionRef, _ambit_v1_ExtensionRef__Output>
      FaultInjection: MessageTypeDefinition<_ambit_v1_FaultInjection, _ambit_v1_FaultInjection__Output>
      GrpcMethodMatch: MessageTypeDefinition<_ambit_v1_GrpcMethodMatch, _ambit_v1_GrpcMethodMatch__Output>
      HeaderMatch: MessageTypeDefinition<_ambit_v1_HeaderMatch, _ambit_v1_HeaderMatch__Output>
      HeaderModifier: MessageTypeDefinition<_ambit_v1_HeaderModifier, _ambit_v1_HeaderModifier__Output>
      HeaderValue: MessageTypeDefinition<_ambit_v1_HeaderValue, _ambit_v1_HeaderValue__Output>
      HttpCookie: MessageTypeDefinition<_ambit_v1_HttpCookie, _ambit_v1_HttpCookie__Output>
      HttpPool: MessageTypeDefinition<_ambit_v1_HttpPool, _ambit_v1_HttpPool__Output>
      JwtHeader: MessageTypeDefinition<_ambit_v1_JwtHeader, _ambit_v1_JwtHeader__Output>
      JwtRule: MessageTypeDefinition<_ambit_v1_JwtRule, _ambit_v1_JwtRule__Output>
      LoadBalancer: MessageTypeDefinition<_ambit_v1_LoadBalancer, _ambit_v1_LoadBalancer__Output>
      LocalRateLimit: MessageTypeDefinition<_ambit_v1_LocalRateLimit, _ambit_v1_LocalRateLimit__Output>
      MatchType: EnumTypeDefinition
      MtlsMode: EnumTypeDefinition
      Nack: MessageTypeDefinition<_ambit_v1_Nack, _ambit_v1_Nack__Output>
      Operation: MessageTypeDefinition<_ambit_v1_Operation, _ambit_v1_Operation__Output>
      OutlierDetection: MessageTypeDefinition<_ambit_v1_OutlierDetection, _ambit_v1_OutlierDetection__Output>
      PathMatch: MessageTypeDefinition<_ambit_v1_PathMatch, _ambit_v1_PathMatch__Output>
      PathModifier: MessageTypeDefinition<_ambit_v1_PathModifier, _ambit_v1_PathModifier__Output>
      PeerAuthentication: MessageTypeDefinition<_ambit_v1_PeerAuthentication, _ambit_v1_PeerAuthentication__Output>
      PolicyScope: EnumTypeDefinition
      PolicyTargetRef: MessageTypeDefinition<_ambit_v1_PolicyTargetRef, _ambit_v1_PolicyTargetRef__Output>
      PortTrafficPolicy: MessageTypeDefinition<_ambit_v1_PortTrafficPolicy, _ambit_v1_PortTrafficPolicy__Output>
      RequestAuthentication: MessageTypeDefinition<_ambit_v1_RequestAuthentication, _ambit_v1_RequestAuthentication__Output>
      RequestMirror: MessageTypeDefinition<_ambit_v1_RequestMirror, _ambit_v1_RequestMirror__Output>
      RequestRedirect: MessageTypeDefinition<_ambit_v1_RequestRedirect, _ambit_v1_RequestRedirect__Output>
      Resource: MessageTypeDefinition<_ambit_v1_Resource, _ambit_v1_Resource__Output>
      ResourceError: MessageTypeDefinition<_ambit_v1_ResourceError, _ambit_v1_ResourceError__Output>
      ResourceKey: MessageTypeDefinition<_ambit_v1_ResourceKey, _ambit_v1_ResourceKey__Output>
      ResourceType: EnumTypeDefinition
      RetryBudget: MessageTypeDefinition<_ambit_v1_RetryBudget, _ambit_v1_RetryBudget__Output>
      Route: MessageTypeDefinition<_ambit_v1_Route, _ambit_v1_Route__Output>
      RouteFilter: MessageTypeDefinition<_ambit_v1_RouteFilter, _ambit_v1_RouteFilter__Output>
      RouteKind: EnumTypeDefinition
      RouteMatch: MessageTypeDefinition<_ambit_v1_RouteMatch, _ambit_v1_RouteMatch__Output>
      RouteParent: MessageTypeDefinition<_ambit_v1_RouteParent, _ambit_v1_RouteParent__Output>
      RouteRetry: MessageTypeDefinition<_ambit_v1_RouteRetry, _ambit_v1_RouteRetry__Output>
      RouteRule: MessageTypeDefinition<_ambit_v1_RouteRule, _ambit_v1_RouteRule__Output>
      RouteTimeouts: MessageTypeDefinition<_ambit_v1_RouteTimeouts, _ambit_v1_RouteTimeouts__Output>
      Rule: MessageTypeDefinition<_ambit_v1_Rule, _ambit_v1_Rule__Output>
      Service: MessageTypeDefinition<_ambit_v1_Service, _ambit_v1_Service__Output>
      ServicePort: MessageTypeDefinition<_ambit_v1_ServicePort, _ambit_v1_ServicePort__Output>
      SimpleLoadBalancer: EnumTypeDefinition
      Source: MessageTypeDefinition<_ambit_v1_Source, _ambit_v1_Source__Output>
      StringMatch: MessageTypeDefinition<_ambit_v1_StringMatch, _ambit_v1_StringMatch__Output>
      Subscribe: MessageTypeDefinition<_ambit_v1_Subscribe, _ambit_v1_Subscribe__Output>
      Subset: MessageTypeDefinition<_ambit_v1_Subset, _ambit_v1_Subset__Output>
      TcpPool: MessageTypeDefinition<_ambit_v1_TcpPool, _ambit_v1_TcpPool__Output>
      TrafficPolicy: MessageTypeDefinition<_ambit_v1_TrafficPolicy, _ambit_v1_TrafficPolicy__Output>
      TunnelProtocol: EnumTypeDefinition
      UrlRewrite: MessageTypeDefinition<_ambit_v1_UrlRewrite, _ambit_v1_UrlRewrite__Output>
      WatchRequest: MessageTypeDefinition<_ambit_v1_WatchRequest, _ambit_v1_WatchRequest__Output>
      WatchResponse: MessageTypeDefinition<_ambit_v1_WatchResponse, _ambit_v1_WatchResponse__Output>
      WaypointBinding: MessageTypeDefinition<_ambit_v1_WaypointBinding, _ambit_v1_WaypointBinding__Output>
      Workload: MessageTypeDefinition<_ambit_v1_Workload, _ambit_v1_Workload__Output>
    }
  }
}

