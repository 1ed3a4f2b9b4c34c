// `ambit local status`: what the runtime of a state directory runs (status.json), or a clear
// statement that none is running.
import { isRunning } from '../../common/sandbox';
import { RECORD_VERSION, type StatusDoc } from './runtime-record';
import { readJson, statePaths } from './state-dir';
import { renderStatus } from './status-view';
import { readRuntimeRecord } from './teardown';

export interface StatusArgs {
  stateDir: string;
  json: boolean;
}

export async function localStatus(args: StatusArgs): Promise<number> {
  const paths = statePaths(args.stateDir);
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  let rec;
  let doc: StatusDoc | undefined;
  try {
    rec = readRuntimeRecord(paths);
    doc = readJson<StatusDoc>(paths.status, RECORD_VERSION);
  } catch (e) {
    process.stderr.write(`ambit local status: ${(e as Error).message}\n`);
    return 1;
  }
  const running = rec !== undefined && isRunning(rec.runtime);
  if (args.json) {
    out(JSON.stringify({ running, stateDir: paths.dir, ...(running && doc ? { status: doc } : {}) }, null, 2));
    return running ? 0 : 3;
  }
  if (rec === undefined) {
    out(`no local runtime is running for ${paths.dir}; start one with \`ambit local up -f <dir>\``);
    return 3;
  }
  if (!running) {
    out(`the local runtime of ${paths.dir} (pid ${rec.runtime.pid}) is not running any more, but left resources behind;`);
    out('run `ambit local down` to remove them');
    return 3;
  }
  if (doc === undefined) {
    out(`the local runtime (pid ${rec.runtime.pid}) is starting; no status yet`);
    return 0;
  }
  for (const line of renderStatus(doc)) out(line);
  return 0;
}
