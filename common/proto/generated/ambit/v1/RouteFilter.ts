// Original file: proto/ambit/v1/route.proto

import type { HeaderModifier as _ambit_v1_HeaderModifier, HeaderModifier__Output as _ambit_v1_HeaderModifier__Output } from '../../ambit/v1/HeaderModifier';
import type { RequestRedirect as _ambit_v1_RequestRedirect, RequestRedirect__Output as _ambit_v1_RequestRedirect__Output } from '../../ambit/v1/RequestRedirect';
import type { UrlRewrite as _ambit_v1_UrlRewrite, UrlRewrite__Output as _ambit_v1_UrlRewrite__Output } from '../../ambit/v1/UrlRewrite';
import type { RequestMirror as _ambit_v1_RequestMirror, RequestMirror__Output as _ambit_v1_RequestMirror__Output } from '../../ambit/v1/RequestMirror';
import type { ExtensionRef as _ambit_v1_ExtensionRef, ExtensionRef__Output as _ambit_v1_ExtensionRef__Output } from '../../ambit/v1/ExtensionRef';
import type { FaultInjection as _ambit_v1_FaultInjection, FaultInjection__Output as _ambit_v1_FaultInjection__Output } from '../../ambit/v1/FaultInjection';
import type { LocalRateLimit as _ambit_v1_LocalRateLimit, LocalRateLimit__Output as _ambit_v1_LocalRateLimit__Output } from '../../ambit/v1/LocalRateLimit';

export interface RouteFilter {
  /**
   * Gateway API filter type: RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect,
   * URLRewrite, RequestMirror, ExtensionRef.
   */
  'type'?: (string);
  'requestHeaderModifier'?: (_ambit_v1_HeaderModifier | null);
  'responseHeaderModifier'?: (_ambit_v1_HeaderModifier | null);
  'requestRedirect'?: (_ambit_v1_RequestRedirect | null);
  'urlRewrite'?: (_ambit_v1_UrlRewrite | null);
  'requestMirror'?: (_ambit_v1_RequestMirror | null);
  'extensionRef'?: (_ambit_v1_ExtensionRef | null);
  /**
   * Resolved target of an ExtensionRef to a FaultInjection.
   */
  'fault'?: (_ambit_v1_FaultInjection | null);
  /**
   * Resolved target of an ExtensionRef to a LocalRateLimit.
   */
  'rateLimit'?: (_ambit_v1_LocalRateLimit | null);
}

export interface RouteFilter__Output {
  /**
   * Gateway API filter type: RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect,
   * URLRewrite, RequestMirror, ExtensionRef.
   */
  'type': (string);
  'requestHeaderModifier': (_ambit_v1_HeaderModifier__Output | null);
  'responseHeaderModifier': (_ambit_v1_HeaderModifier__Output | null);
  'requestRedirect': (_ambit_v1_RequestRedirect__Output | null);
  'urlRewrite': (_ambit_v1_UrlRewrite__Output | null);
  'requestMirror': (_ambit_v1_RequestMirror__Output | null);
  'extensionRef': (_ambit_v1_ExtensionRef__Output | null);
  /**
   * Resolved target of an ExtensionRef to a FaultInjection.
   */
  'fault': (_ambit_v1_FaultInjection__Output | null);
  /**
   * Resolved target of an ExtensionRef to a LocalRateLimit.
   */
  'rateLimit': (_ambit_v1_LocalRateLimit__Output | null);
}
