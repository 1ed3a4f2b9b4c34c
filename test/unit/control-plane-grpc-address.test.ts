// gRPC addresses in settings: host:port or unix:/abs/path, for the control plane's extra listeners
// (AMBIT_GRPC_EXTRA_LISTEN) and for clients (AMBIT_CONTROL_PLANE, ConfigClient address).
import { ConfigClient } from '../../common/config-client';
import { controlPlaneAddress, grpcListenList, parseGrpcListen, parseGrpcTarget } from '../../common/settings/grpc-address';
import { loadControlPlaneConfig } from '../../control-plane/config';

describe('client targets', () => {
  it('accepts host:port, [v6]:port and unix:/abs/path, in grpc-js form', () => {
    expect(controlPlaneAddress('127.0.0.1:15012', 'controlPlane')).toBe('127.0.0.1:15012');
    expect(controlPlaneAddress('istiod.istio-system.svc:15012', 'controlPlane')).toBe('istiod.istio-system.svc:15012');
    expect(controlPlaneAddress('[::1]:15012', 'controlPlane')).toBe('[::1]:15012');
    expect(controlPlaneAddress('unix:/run/ambit/cp.sock', 'controlPlane')).toBe('unix:/run/ambit/cp.sock');
    expect(parseGrpcTarget('controlPlane', 'unix:/run/ambit/cp.sock')).toEqual({ kind: 'unix', path: '/run/ambit/cp.sock' });
  });

  it.each([':15012', '127.0.0.1', '127.0.0.1:0', 'host:70000', 'unix:cp.sock', 'unix:///run/cp.sock', 'unix:/run/../cp.sock', 'http://x:1'])('rejects %s, naming the key and both forms', (v) => {
    expect(() => controlPlaneAddress(v, 'controlPlane')).toThrow(new RegExp(`^controlPlane="${v.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}".*unix:/absolute/path`));
  });

  it('rejects a socket path the kernel cannot bind (over 107 bytes)', () => {
    expect(() => parseGrpcTarget('controlPlane', `unix:/${'a'.repeat(107)}`)).toThrow(/longer than 107 bytes/);
  });

  it('ConfigClient takes a unix address and refuses a malformed one at construction', () => {
    const ok = new ConfigClient({ address: 'unix:/run/ambit/cp.sock', subscription: { waypoint: 'shop/waypoint' }, accept: () => undefined });
    void ok.close();
    expect(() => new ConfigClient({ address: 'unix:relative.sock', subscription: { node: 'n' }, accept: () => undefined })).toThrow(/not a unix socket address/);
  });
});

describe('server addresses', () => {
  it('host:port with port 0 and ":port" (all interfaces) as before, or a socket', () => {
    expect(parseGrpcListen('l', '127.0.0.1:0')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    expect(parseGrpcListen('l', ':15012')).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 15012 });
    expect(parseGrpcListen('l', 'unix:/run/ambit/cp.sock')).toEqual({ kind: 'unix', path: '/run/ambit/cp.sock' });
    expect(() => parseGrpcListen('l', 'nonsense')).toThrow(/use host:port.*or use unix:\/absolute\/path/);
  });

  it('AMBIT_GRPC_EXTRA_LISTEN is a comma-separated list, empty by default', () => {
    const base = { AMBIT_CONFIG_DIR: '/tmp/x' };
    expect(loadControlPlaneConfig({}, base).grpcExtraListen).toEqual([]);
    expect(loadControlPlaneConfig({}, { ...base, AMBIT_GRPC_EXTRA_LISTEN: 'unix:/run/ambit/cp.sock, 127.0.0.1:0' }).grpcExtraListen).toEqual(['unix:/run/ambit/cp.sock', '127.0.0.1:0']);
    expect(grpcListenList('', 'k')).toEqual([]);
    expect(() => loadControlPlaneConfig({ grpcExtraListen: 'unix:cp.sock' }, base)).toThrow(expect.objectContaining({ code: 'AMBIT_ERR_INVALID_OPTION', message: expect.stringContaining('grpcExtraListen="unix:cp.sock"') }));
  });
});
