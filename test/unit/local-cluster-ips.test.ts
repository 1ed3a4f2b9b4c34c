import { ClusterIpAllocator, SERVICE_CIDR } from '../../cli/local/cluster-ips';

describe('local runtime ClusterIP allocation', () => {
  it('allocates from 198.19.0.10 upwards, one stable address per Service', () => {
    expect(SERVICE_CIDR).toBe('198.19.0.0/16');
    const a = new ClusterIpAllocator();
    expect(a.assign('Service/demo/a').ip).toBe('198.19.0.10');
    expect(a.assign('Service/demo/b').ip).toBe('198.19.0.11');
    expect(a.assign('Service/demo/a').ip).toBe('198.19.0.10');
    expect(a.get('Service/demo/b')).toBe('198.19.0.11');
  });

  it('keeps a requested address when it is free and refuses a taken or malformed one', () => {
    const a = new ClusterIpAllocator();
    expect(a.assign('Service/demo/a', '10.96.0.20')).toEqual({ ip: '10.96.0.20' });
    const taken = a.assign('Service/demo/b', '10.96.0.20');
    expect(taken.ip).toBe('198.19.0.10');
    expect(taken.warning).toMatch(/already used by Service\/demo\/a/);
    const bad = a.assign('Service/demo/c', 'fd00::1');
    expect(bad.warning).toMatch(/not an IPv4 address/);
  });

  it('gives headless Services no address and frees addresses on release', () => {
    const a = new ClusterIpAllocator();
    expect(a.assign('Service/demo/h', 'None')).toEqual({ ip: 'None' });
    expect(a.assign('Service/demo/a').ip).toBe('198.19.0.10');
    a.release('Service/demo/a');
    expect(a.get('Service/demo/a')).toBeUndefined();
    expect(a.assign('Service/demo/x', '198.19.0.10').ip).toBe('198.19.0.10');
    // The cursor moves on rather than reusing an address at once (like the API server's).
    expect(a.assign('Service/demo/y').ip).toBe('198.19.0.11');
  });

  it('skips addresses already taken when the cursor reaches them', () => {
    const a = new ClusterIpAllocator();
    a.assign('Service/demo/pinned', '198.19.0.11');
    expect(a.assign('Service/demo/a').ip).toBe('198.19.0.10');
    expect(a.assign('Service/demo/b').ip).toBe('198.19.0.12');
  });
});
