// The agent's settings: defaults, flags over environment, and errors that name the key, the value
// and what to use. The control plane shares the same loader (common/settings).
import { AGENT_DECLARATIONS, loadAgentConfig } from '../../agent/config';
import { AgentErrorCodes } from '../../agent/errors';
import { loadControlPlaneConfig } from '../../control-plane/config';

const base = { AMBIT_NODE_NAME: 'node1', AMBIT_CGROUP_ROOT: '/sys/fs/cgroup/ambit' };

describe('agent config', () => {
  it('applies the declared defaults and freezes the result', () => {
    const c = loadAgentConfig({}, base);
    expect(c.node).toBe('node1');
    expect(c.controlPlane).toBe('127.0.0.1:15012');
    expect(c.adminListen).toBe('127.0.0.1:15000');
    expect(c.metricsListen).toBe(':15020');
    expect(c.readinessListen).toBe(':15021');
    expect(c.drainTimeoutMs).toBe(20000);
    expect(c.dnsCapture).toBe(true);
    expect(c.pinDir).toBe('');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('takes flags over the environment', () => {
    const c = loadAgentConfig({ node: 'node2', drainTimeoutMs: 50 }, { ...base, AMBIT_DRAIN_TIMEOUT_MS: '900' });
    expect(c.node).toBe('node2');
    expect(c.drainTimeoutMs).toBe(50);
  });

  it('names a missing required setting with its flag and variable', () => {
    expect(() => loadAgentConfig({}, { AMBIT_CGROUP_ROOT: '/x' })).toThrow(/node is required: pass --node or set AMBIT_NODE_NAME/);
  });

  it.each([
    ['drainTimeoutMs', 'soon', /drainTimeoutMs="soon" is invalid: use a whole number of milliseconds/],
    ['dnsCapture', 'maybe', /dnsCapture="maybe" is invalid: use true or false/],
    ['adminListen', 'localhost', /adminListen="localhost" is not a listen address/],
    ['dnsUpstream', 'dns.google', /dnsUpstream="dns.google" is invalid: use ip:port/],
    ['node', 'Node_1', /node="Node_1" is invalid: use a lowercase DNS name/],
    ['logLevel', 'loud', /logLevel="loud" is invalid: use one of fatal, error/],
  ])('rejects %s=%s with a clear message', (key, value, message) => {
    let err: unknown;
    try {
      loadAgentConfig({ [key]: value }, base);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: AgentErrorCodes.INVALID_OPTION });
    expect((err as Error).message).toMatch(message);
  });

  it('declares an environment variable and help for every setting', () => {
    for (const [key, decl] of Object.entries(AGENT_DECLARATIONS)) {
      expect(decl.env).toMatch(/^AMBIT_[A-Z0-9_]+$/);
      expect(decl.help.length).toBeGreaterThan(5);
      expect(key).toMatch(/^[a-z][A-Za-z0-9]+$/);
    }
  });

  it('the control plane loads through the same declarations machinery', () => {
    expect(() => loadControlPlaneConfig({ configDir: '/tmp', debounceMs: 'x' }, {})).toThrow(/debounceMs="x" is invalid/);
    expect(loadControlPlaneConfig({ configDir: '/tmp' }, {}).debounceMs).toBe(10);
  });
});
