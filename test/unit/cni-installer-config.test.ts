// The CNI installer's config logic without I/O (cli/cni-installer/cni-config.ts, settings.ts):
// which file the runtime uses, chaining ambit-cni last (idempotent, other plugins untouched, a
// single-plugin .conf turned into a list), taking it out again, and refusing what cannot be
// chained with a message naming the file.
import { CniInstallError } from '../../cli/cni-installer/errors';
import { ambitCniEntry, chainConfig, isChained, primaryConfig, unchainConfig } from '../../cli/cni-installer/cni-config';
import { loadCniInstallSettings } from '../../cli/cni-installer/settings';

const entry = ambitCniEntry({ socketPath: '/var/run/ambit/enrollment.sock', recordDir: '/var/run/ambit/cni-pods', excludeNamespaces: ['kube-system', 'ambit-system'] });
const calico = { type: 'calico', log_level: 'info', ipam: { type: 'calico-ipam' }, kubernetes: { kubeconfig: '/etc/cni/net.d/calico-kubeconfig' } };
const portmap = { type: 'portmap', snat: true, capabilities: { portMappings: true } };
const conflist = { cniVersion: '1.0.0', name: 'k8s-pod-network', plugins: [calico, portmap] };

function thrown(f: () => unknown): CniInstallError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CniInstallError);
    return e as CniInstallError;
  }
  throw new Error('did not throw');
}

describe('primaryConfig: the file the runtime loads', () => {
  test('the first .conf/.conflist/.json in byte order; other files are not configs', () => {
    expect(primaryConfig(['99-other.conflist', '10-calico.conflist', 'calico-kubeconfig', '05-x.conf.bak', '.10-calico.conflist.ambit-tmp-7'])).toBe('10-calico.conflist');
    expect(primaryConfig(['20-b.json', '10-flannel.conf', '10-flannel.conflist'])).toBe('10-flannel.conf');
    // Byte order, as Go sorts: upper case before lower case.
    expect(primaryConfig(['a.conflist', 'B.conflist'])).toBe('B.conflist');
    expect(primaryConfig(['README', 'calico-kubeconfig'])).toBeUndefined();
  });
});

describe('chainConfig', () => {
  test('a .conflist: ambit-cni last, every other plugin and key exactly as it was', () => {
    const text = JSON.stringify({ ...conflist, disableCheck: true });
    const c = chainConfig('10-calico.conflist', text, entry);
    expect(c).toMatchObject({ changed: true, name: '10-calico.conflist' });
    expect(c.replaces).toBeUndefined();
    const out = JSON.parse(c.text);
    expect(out).toEqual({ ...conflist, disableCheck: true, plugins: [calico, portmap, entry] });
    expect(out.plugins[2]).toEqual({
      type: 'ambit-cni',
      socketPath: '/var/run/ambit/enrollment.sock',
      recordDir: '/var/run/ambit/cni-pods',
      excludeNamespaces: ['kube-system', 'ambit-system'],
      capabilities: { cgroupPath: true },
    });
  });

  test('idempotent: chaining a chained file changes nothing, byte for byte', () => {
    const once = chainConfig('10-calico.conflist', JSON.stringify(conflist), entry);
    const twice = chainConfig('10-calico.conflist', once.text, entry);
    expect(twice).toEqual({ changed: false, name: '10-calico.conflist', text: once.text });
    expect(isChained('10-calico.conflist', once.text, entry)).toBe(true);
    expect(isChained('10-calico.conflist', JSON.stringify(conflist), entry)).toBe(false);
  });

  test('an older or misplaced ambit-cni entry is replaced by the current one, last', () => {
    const stale = { type: 'ambit-cni', socketPath: '/old.sock' };
    const c = chainConfig('10-calico.conflist', JSON.stringify({ ...conflist, plugins: [calico, stale, portmap] }), entry);
    expect(JSON.parse(c.text).plugins).toEqual([calico, portmap, entry]);
  });

  test('a single-plugin .conf becomes <base>.conflist with the same network name and version; the .conf goes', () => {
    const flannel = { cniVersion: '0.4.0', name: 'cbr0', type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } };
    const c = chainConfig('10-flannel.conf', JSON.stringify(flannel), entry);
    expect(c).toMatchObject({ changed: true, name: '10-flannel.conflist', replaces: '10-flannel.conf' });
    expect(JSON.parse(c.text)).toEqual({ cniVersion: '0.4.0', name: 'cbr0', plugins: [{ type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } }, entry] });
    expect(chainConfig('10-bridge.json', JSON.stringify({ ...flannel, type: 'bridge' }), entry)).toMatchObject({ name: '10-bridge.conflist', replaces: '10-bridge.json' });
  });

  test('what cannot be chained is refused, naming the file and what to do', () => {
    const notJson = thrown(() => chainConfig('10-calico.conflist', '{"cniVersion": "1.0.0", "plugins": [', entry));
    expect(notJson.code).toBe('AMBIT_ERR_CNI_INSTALL_CONFIG');
    expect(notJson.message).toMatch(/^10-calico\.conflist: not JSON \(.+\); the container runtime cannot load it either/);
    expect(thrown(() => chainConfig('10-x.conflist', '[]', entry)).message).toBe('10-x.conflist: not a CNI network config (a JSON object)');
    expect(thrown(() => chainConfig('10-x.conflist', JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'bridge' }), entry)).message).toBe(
      '10-x.conflist: a .conflist needs a "plugins" list of objects',
    );
    expect(thrown(() => chainConfig('10-x.conf', JSON.stringify({ cniVersion: '1.0.0', name: 'n', plugins: [] }), entry)).message).toBe(
      '10-x.conf: a single-plugin config (.conf, .json) needs a "type"',
    );
    expect(thrown(() => chainConfig('10-x.conflist', JSON.stringify({ ...conflist, cniVersion: '0.3.1' }), entry)).message).toBe(
      '10-x.conflist: cniVersion "0.3.1" cannot be chained: ambit-cni speaks 0.4.0, 1.0.0, 1.1.0; upgrade the network plugin (or its config) to CNI 0.4.0 or later',
    );
    expect(thrown(() => chainConfig('10-x.conflist', JSON.stringify({ name: 'n', plugins: [calico] }), entry)).message).toContain('cniVersion null cannot be chained');
  });
});

describe('unchainConfig', () => {
  test('takes every ambit-cni entry out and leaves the rest as it was', () => {
    const chained = chainConfig('10-calico.conflist', JSON.stringify(conflist), entry).text;
    const c = unchainConfig('10-calico.conflist', chained);
    expect(c.changed).toBe(true);
    expect(JSON.parse(c.text)).toEqual(conflist);
  });

  test('a file without the entry, or not a list, is unchanged', () => {
    const text = JSON.stringify(conflist);
    expect(unchainConfig('10-calico.conflist', text)).toEqual({ changed: false, name: '10-calico.conflist', text });
    const single = JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'bridge' });
    expect(unchainConfig('10-bridge.conf', single)).toEqual({ changed: false, name: '10-bridge.conf', text: single });
  });
});

describe('settings', () => {
  test("the defaults are the chart's paths; the namespace list is parsed", () => {
    const s = loadCniInstallSettings({}, { AMBIT_CNI_DAEMONSET: 'ambit-system/ambit-agent', AMBIT_CNI_EXCLUDE_NAMESPACES: 'kube-system, ambit-system,kube-system' });
    expect(s).toMatchObject({
      pluginSource: '/opt/cni/bin/ambit-cni',
      binDir: '/host/opt/cni/bin',
      confDir: '/host/etc/cni/net.d',
      enrollmentSocket: '/var/run/ambit/enrollment.sock',
      recordDir: '/var/run/ambit/cni-pods',
      excludeNamespaces: ['kube-system', 'ambit-system'],
      removeOnStop: 'auto',
      daemonSet: 'ambit-system/ambit-agent',
      resyncSeconds: 30,
    });
    expect(Object.isFrozen(s)).toBe(true);
  });

  test('bad values name the setting and what to use', () => {
    const err = (env: NodeJS.ProcessEnv, flags = {}) => thrown(() => loadCniInstallSettings(flags, env));
    expect(err({}).message).toContain('daemonSet is required with removeOnStop auto: pass --daemon-set <namespace>/<name> or set AMBIT_CNI_DAEMONSET');
    expect(err({}).code).toBe('AMBIT_ERR_CNI_INSTALL_SETTINGS');
    expect(() => loadCniInstallSettings({ removeOnStop: 'never' }, {})).not.toThrow();
    expect(err({ AMBIT_CNI_REMOVE_ON_STOP: 'sometimes' }).message).toBe('removeOnStop="sometimes" is invalid: use auto (when the DaemonSet is deleted), always or never');
    expect(err({ AMBIT_CNI_REMOVE_ON_STOP: 'never', AMBIT_CNI_EXCLUDE_NAMESPACES: 'kube_system' }).message).toContain('excludeNamespaces="kube_system" is invalid');
    expect(err({ AMBIT_CNI_REMOVE_ON_STOP: 'never', AMBIT_CNI_CONF_DIR: 'etc/cni' }).message).toBe('confDir="etc/cni" is invalid: use an absolute path');
    expect(err({ AMBIT_CNI_DAEMONSET: 'ambit-agent' }).message).toContain('daemonSet="ambit-agent" is invalid: use <namespace>/<name>');
  });
});
