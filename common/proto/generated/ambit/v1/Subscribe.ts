// Original file: proto/ambit/v1/config.proto

import type { ResourceType as _ambit_v1_ResourceType, ResourceType__Output as _ambit_v1_ResourceType__Output } from '../../ambit/v1/ResourceType';

/**
 * Who is asking; decides which resources it receives.
 */
export interface Subscribe {
  /**
   * A node agent: everything the node's workloads need.
   */
  'node'?: (string);
  /**
   * A waypoint "<namespace>/<name>": its services, their routes and policies.
   */
  'waypoint'?: (string);
  /**
   * Empty = every type the client kind uses.
   */
  'types'?: (_ambit_v1_ResourceType)[];
  /**
   * Free-form client id for logs and metrics (e.g. "agent node1 pid 1234").
   */
  'clientId'?: (string);
  /**
   * The last version the client accepted (from its on-disk cache); informational: a snapshot is
   * always sent on (re)connect.
   */
  'lastAcceptedVersion'?: (string);
  /**
   * Where this client's Prometheus /metrics is served ("http://host:port/metrics"), as the control
   * plane can reach it; the dashboard scrapes it. Empty = not scraped.
   */
  'metricsUrl'?: (string);
  'client'?: "node"|"waypoint";
}

/**
 * Who is asking; decides which resources it receives.
 */
export interface Subscribe__Output {
  /**
   * A node agent: everything the node's workloads need.
   */
  'node'?: (string);
  /**
   * A waypoint "<namespace>/<name>": its services, their routes and policies.
   */
  'waypoint'?: (string);
  /**
   * Empty = every type the client kind uses.
   */
  'types': (_ambit_v1_ResourceType__Output)[];
  /**
   * Free-form client id for logs and metrics (e.g. "agent node1 pid 1234").
   */
  'clientId': (string);
  /**
   * The last version the client accepted (from its on-disk cache); informational: a snapshot is
   * always sent on (re)connect.
   */
  'lastAcceptedVersion': (string);
  /**
   * Where this client's Prometheus /metrics is served ("http://host:port/metrics"), as the control
   * plane can reach it; the dashboard scrapes it. Empty = not scraped.
   */
  'metricsUrl': (string);
  'client'?: "node"|"waypoint";
}
