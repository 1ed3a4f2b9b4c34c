/**
 * Which known name a question is about, from the asking pod's point of view,
 * following ztunnel (src/dns/server.rs, get_aliases/to_kube_fqdns):
 *
 * - the name as asked (`reviews.demo.svc.cluster.local`);
 * - its Kubernetes expansions: `reviews` -> `reviews.<ns>.svc.<domain>`,
 *   `reviews.demo` -> `reviews.demo.svc.<domain>`, `reviews.demo.svc` ->
 *   `reviews.demo.svc.<domain>`;
 * - the name with one of the pod's search domains stripped, and that name's
 *   expansions: glibc tries `reviews.demo` as `reviews.demo.<ns>.svc.<domain>`
 *   first, and answering that at once (with a CNAME to the real name) saves the
 *   NXDOMAIN round trips of the rest of the search list.
 *
 * Each candidate is tried as is, then as wildcards (`*.example.com`, `*.com`).
 * A name that matches nothing is forwarded upstream, including names under
 * the cluster domain (ztunnel does the same: the cluster's own DNS knows pods,
 * headless Services and SRV records the mesh does not).
 */
import { normalizeName, type DnsAddresses, type DnsLookup } from './service-dns-table';

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

export interface SearchContext {
  /** The asking pod's namespace. */
  namespace: string;
  /** Default cluster.local. */
  clusterDomain?: string;
  /** Default the pod's Kubernetes search path: `<ns>.svc.<domain> svc.<domain> <domain>`. */
  searchDomains?: readonly string[];
}

export interface NameMatch {
  /** The name the answer records are for: the question name, or the canonical name behind a CNAME. */
  recordName: string;
  /** Set when the question only matched once a search domain was stripped: answer with a CNAME to recordName. */
  cname: boolean;
  addresses: DnsAddresses;
}

interface Candidate {
  name: string;
  /** Found by stripping one of the pod's search domains. */
  stripped: boolean;
}

export function podSearchDomains(namespace: string, clusterDomain = DEFAULT_CLUSTER_DOMAIN): string[] {
  const d = normalizeName(clusterDomain);
  return [`${normalizeName(namespace)}.svc.${d}`, `svc.${d}`, d];
}

/** `name` with `.domain` removed, when it ends that way and keeps at least one label. */
function trimDomain(name: string, domain: string): string | undefined {
  return name.endsWith(`.${domain}`) ? name.slice(0, -(domain.length + 1)) : undefined;
}

function kubeExpansions(name: string, namespace: string, domain: string): string[] {
  const labels = name.split('.');
  switch (labels.length) {
    case 1:
      return [`${name}.${namespace}.svc.${domain}`];
    case 2:
      return [`${name}.svc.${domain}`];
    case 3:
      return labels[2] === 'svc' ? [`${name}.${domain}`] : [];
    default:
      return [];
  }
}

/** The names to try, best first, without duplicates. */
export function candidateNames(question: string, ctx: SearchContext): Candidate[] {
  const name = normalizeName(question);
  const namespace = normalizeName(ctx.namespace);
  const domain = normalizeName(ctx.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN);
  const search = (ctx.searchDomains ?? podSearchDomains(namespace, domain)).map(normalizeName);
  const out: Candidate[] = [];
  const seen = new Set<string>();
  const add = (n: string, stripped: boolean) => {
    if (n === '' || seen.has(n)) return;
    seen.add(n);
    out.push({ name: n, stripped });
  };
  add(name, false);
  for (const n of kubeExpansions(name, namespace, domain)) add(n, false);
  for (const sd of search) {
    const stripped = trimDomain(name, sd);
    if (stripped === undefined) continue;
    add(stripped, true);
    for (const n of kubeExpansions(stripped, namespace, domain)) add(n, true);
  }
  return out;
}

/** `a.b.c` -> [`a.b.c`, `*.b.c`, `*.c`]. */
function withWildcards(name: string): string[] {
  const out = [name];
  const labels = name.split('.');
  for (let i = 1; i < labels.length; i++) out.push(`*.${labels.slice(i).join('.')}`);
  return out;
}

/** The known name `question` refers to for a pod in `ctx.namespace`, or undefined (forward it). */
export function findName(lookup: DnsLookup, question: string, ctx: SearchContext): NameMatch | undefined {
  for (const c of candidateNames(question, ctx)) {
    const tries = withWildcards(c.name);
    for (let i = 0; i < tries.length; i++) {
      const addresses = lookup.lookup(tries[i]);
      if (!addresses) continue;
      // A wildcard answers under the asked name (no CNAME to a '*' name), as in ztunnel.
      const cname = c.stripped && i === 0;
      return { recordName: cname ? c.name : question.replace(/\.$/, ''), cname, addresses };
    }
  }
  return undefined;
}
