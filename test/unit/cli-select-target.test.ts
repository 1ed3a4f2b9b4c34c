// Which local runtime a cluster command acts on, and what it says when it cannot use one. (The
// privileged end-to-end test runs the commands against a real runtime; a state directory that a
// non-root user cannot read is shown here, since root reads everything.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError } from '../../cli/cluster/errors';
import { localTarget } from '../../cli/cluster/select-target';

describe('localTarget', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-select-target-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(() => jest.restoreAllMocks());

  const refusal = (stateDir: string): CliError => {
    try {
      localTarget(stateDir);
    } catch (e) {
      return e as CliError;
    }
    throw new Error('localTarget accepted a state directory without a runtime');
  };

  it('no runtime: says how to start one, or to pass --kubeconfig', () => {
    const e = refusal(dir);
    expect(e).toBeInstanceOf(CliError);
    expect(e.code).toBe('AMBIT_ERR_CLI_NO_TARGET');
    expect(e.message).toMatch(new RegExp(`no local runtime is running for ${dir}: start one with \`sudo ambit local up -f <dir>\`, or pass --kubeconfig`));
  });

  it('a state directory the user may not read (the runtime is root\'s, 0700): run with sudo', () => {
    const realRead = fs.readFileSync;
    jest.spyOn(fs, 'readFileSync').mockImplementation(((file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
      if (String(file).startsWith(dir)) throw Object.assign(new Error(`EACCES: permission denied, open '${String(file)}'`), { code: 'EACCES' });
      return (realRead as (...a: unknown[]) => unknown)(file, ...rest);
    }) as typeof fs.readFileSync);
    const e = refusal(dir);
    expect(e.code).toBe('AMBIT_ERR_CLI_NOT_ROOT');
    expect(e.message).toBe(`the local runtime's state in ${dir} is readable by root only; run this with sudo`);
  });

  it('a runtime.json whose process is gone: says how to clean up and start again', () => {
    fs.writeFileSync(path.join(dir, 'runtime.json'), 'not json');
    const e = refusal(dir);
    expect(e.code).toBe('AMBIT_ERR_CLI_NO_TARGET');
    expect(e.message).toMatch(/is not JSON .*run `ambit local down` to clean up/);
  });
});
