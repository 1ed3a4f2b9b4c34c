import { isSandboxName, isSandboxPrefix, parseSandboxName, runPrefixOf } from '../../common/sandbox/names';

describe('sandbox names', () => {
  it('encode family and creating pid, and parse back', () => {
    expect(runPrefixOf('ambit-l', 12345)).toBe('ambit-l9ix-');
    expect(parseSandboxName('ambit-l9ix-0')).toEqual({ family: 'ambit-l', pid: 12345 });
    expect(parseSandboxName('ambit-t1k3-4')).toEqual({ family: 'ambit-t', pid: parseInt('1k3', 36) });
  });

  it('accept only the known families, so nothing else is ever removed', () => {
    for (const name of ['ambit-x1k3-4', 'ambit-t1k3', 'ambit-t-4', 'cni-1234', 'ambit-t1k3-4/..', 'ambit-tAB-1']) {
      expect(isSandboxName(name)).toBe(false);
    }
    expect(isSandboxPrefix('ambit-t')).toBe(true);
    expect(isSandboxPrefix('ambit-l9ix-')).toBe(true);
    expect(isSandboxPrefix('ambit-')).toBe(false);
    expect(isSandboxPrefix('ambit-l9ix')).toBe(false);
  });
});
