// The environment a container starts with, as the kubelet builds it:
//   1. Service variables for every Service in the pod's namespace that has a ClusterIP (unless
//      spec.enableServiceLinks is false), named like Docker links (pkg/kubelet/envvars):
//        REVIEWS_SERVICE_HOST=198.19.0.12   REVIEWS_SERVICE_PORT=9080   REVIEWS_SERVICE_PORT_HTTP=9080
//        REVIEWS_PORT=tcp://198.19.0.12:9080   REVIEWS_PORT_9080_TCP=tcp://198.19.0.12:9080
//        REVIEWS_PORT_9080_TCP_PROTO=tcp   REVIEWS_PORT_9080_TCP_PORT=9080   REVIEWS_PORT_9080_TCP_ADDR=…
//   2. the downward-API style POD_NAME, POD_NAMESPACE, POD_IP, NODE_NAME (what manifests usually
//      map with fieldRef; given directly here because local containers have no API server);
//   3. the container's own env, in order, with $(VAR) references expanded against what is
//      defined before it ($$ escapes a dollar), overriding anything above.
// Only Service variables of Services that exist when the container starts are set, as in Kubernetes.

export interface ServiceForEnv {
  name: string;
  clusterIP: string;
  ports: ReadonlyArray<{ name?: string; port: number; protocol?: string }>;
}

export interface PodForEnv {
  name: string;
  namespace: string;
  podIP: string;
  nodeName: string;
}

/** REVIEWS for reviews, MY_SVC for my-svc. */
export const envName = (serviceName: string): string => serviceName.toUpperCase().replace(/[-.]/g, '_');

/** The Docker-link style variables of one Service ({} when it has no ClusterIP or no port). */
export function serviceEnv(svc: ServiceForEnv): Record<string, string> {
  if (svc.clusterIP === '' || svc.clusterIP === 'None' || svc.ports.length === 0) return {};
  const n = envName(svc.name);
  const host = svc.clusterIP;
  const env: Record<string, string> = { [`${n}_SERVICE_HOST`]: host, [`${n}_SERVICE_PORT`]: String(svc.ports[0].port) };
  for (const p of svc.ports) if (p.name) env[`${n}_SERVICE_PORT_${envName(p.name)}`] = String(p.port);
  const first = svc.ports[0];
  env[`${n}_PORT`] = `${(first.protocol ?? 'TCP').toLowerCase()}://${host}:${first.port}`;
  for (const p of svc.ports) {
    const proto = (p.protocol ?? 'TCP').toLowerCase();
    const base = `${n}_PORT_${p.port}_${proto.toUpperCase()}`;
    env[base] = `${proto}://${host}:${p.port}`;
    env[`${base}_PROTO`] = proto;
    env[`${base}_PORT`] = String(p.port);
    env[`${base}_ADDR`] = host;
  }
  return env;
}

/** Expands $(VAR) from `vars`; $$ is a literal $; unknown references stay as written (kubelet). */
export function expandRefs(value: string, vars: Readonly<Record<string, string>>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m: string, name?: string) => {
    if (m === '$$') return '$';
    return name !== undefined && Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : m;
  });
}

export interface ContainerEnvInput {
  pod: PodForEnv;
  services: readonly ServiceForEnv[];
  enableServiceLinks?: boolean;
  env?: ReadonlyArray<{ name: string; value?: string }>;
}

/** The container's environment (without the runtime's own PATH/HOME, which the caller adds). */
export function containerEnv(input: ContainerEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  if (input.enableServiceLinks !== false) {
    for (const svc of [...input.services].sort((a, b) => a.name.localeCompare(b.name))) Object.assign(env, serviceEnv(svc));
  }
  Object.assign(env, {
    POD_NAME: input.pod.name,
    POD_NAMESPACE: input.pod.namespace,
    POD_IP: input.pod.podIP,
    NODE_NAME: input.pod.nodeName,
  });
  for (const e of input.env ?? []) env[e.name] = expandRefs(e.value ?? '', env);
  return env;
}
