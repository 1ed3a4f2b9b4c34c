// `ambit local up` refuses a directory with errors before it creates anything: the YAML source's
// own problems (file, line, field) plus what only the local runtime cannot do (a container without
// a command: there are no images to take an entrypoint from).
import path from 'node:path';
import type { Pod } from '../../control-plane/kube/objects';
import type { ConfigProblem, SourceSink } from '../../control-plane/sources/source';
import { YamlDirectorySource } from '../../control-plane/sources/yaml-directory-source';

export interface DirectoryCheck {
  problems: ConfigProblem[];
  pods: number;
  services: number;
  nodeNames: string[];
}

/** Problems of local-runtime origin in one Pod. */
export function runtimeProblems(pod: Pod, source: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  (pod.spec?.containers ?? []).forEach((c, i) => {
    if (c.command === undefined || c.command.length === 0) {
      out.push({
        severity: 'error',
        source,
        kind: 'Pod',
        namespace: pod.metadata.namespace ?? 'default',
        name: pod.metadata.name,
        field: `/spec/containers/${i}/command`,
        message: `container "${c.name}" has no command; ambit local runs commands as host processes, not images (e.g. command: [node, app/server.js])`,
      });
    }
  });
  return out;
}

/** Reads `dir` once (no watching) and reports every problem. */
export async function checkDirectory(dir: string): Promise<DirectoryCheck> {
  const source = new YamlDirectorySource({ dir: path.resolve(dir) });
  const pods: Pod[] = [];
  let services = 0;
  let problems: ConfigProblem[] = [];
  const sink: SourceSink = {
    apply: (changes) => {
      for (const o of changes.upsert) {
        if (o.kind === 'Pod') pods.push(o as Pod);
        if (o.kind === 'Service') services++;
      }
    },
    problems: (list) => {
      problems = [...list];
    },
    synced: () => {},
  };
  try {
    await source.start(sink);
  } finally {
    await source.stop();
  }
  problems.push(...pods.flatMap((p) => runtimeProblems(p, source.name)));
  const nodeNames = [...new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => !!n))].sort();
  return { problems, pods: pods.length, services, nodeNames };
}

/** One problem as a line: "file:line  Kind ns/name  /field: message". */
export function formatProblem(p: ConfigProblem): string {
  const where = p.file !== undefined ? `${p.file}${p.line !== undefined ? `:${p.line}` : ''}` : p.source;
  const what = p.kind !== undefined ? ` ${p.kind} ${p.namespace ? `${p.namespace}/` : ''}${p.name ?? ''}` : '';
  const field = p.field !== undefined ? ` ${p.field}:` : '';
  return `${p.severity}: ${where}${what}${field} ${p.message}`;
}
