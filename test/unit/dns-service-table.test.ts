// ServiceDnsTable (agent/dns/service-dns-table.ts) and the search-path matching of
// agent/dns/search-names.ts: which question the DNS proxy answers itself, for which pod.
import { ServiceDnsTable } from '../../agent/dns/service-dns-table';
import { candidateNames, findName, podSearchDomains } from '../../agent/dns/search-names';
import { DnsErrorCodes } from '../../agent/dns/errors';

const table = () =>
  new ServiceDnsTable([
    { hostname: 'reviews.demo.svc.cluster.local', vips: ['10.96.0.10', 'fd00:96::10'] },
    { hostname: 'ratings.demo.svc.cluster.local.', vips: ['10.96.0.11'] },
    { hostname: 'db.other.svc.cluster.local', vips: ['10.96.1.5'] },
    { hostname: 'api.example.com', vips: ['240.240.0.1'] },
    { hostname: '*.wild.example', vips: ['240.240.0.2'] },
    { hostname: 'headless.demo.svc.cluster.local', vips: [] },
  ]);

describe('ServiceDnsTable', () => {
  it('looks names up case-insensitively, with or without the trailing dot, split by family', () => {
    const t = table();
    expect(t.lookup('reviews.demo.svc.cluster.local')).toEqual({ v4: ['10.96.0.10'], v6: ['fd00:96::10'] });
    expect(t.lookup('Reviews.DEMO.svc.cluster.local.')).toEqual({ v4: ['10.96.0.10'], v6: ['fd00:96::10'] });
    expect(t.lookup('ratings.demo.svc.cluster.local')).toEqual({ v4: ['10.96.0.11'], v6: [] });
    expect(t.lookup('nope.demo.svc.cluster.local')).toBeUndefined();
  });

  it('leaves Services without VIPs (headless) to the upstream resolver', () => {
    expect(table().lookup('headless.demo.svc.cluster.local')).toBeUndefined();
  });

  it('merges entries of the same hostname and drops duplicate VIPs', () => {
    const t = new ServiceDnsTable([
      { hostname: 'a.example.com', vips: ['240.0.0.1'] },
      { hostname: 'A.example.com.', vips: ['240.0.0.1', '240.0.0.2', '2001:db8::1'] },
    ]);
    expect(t.lookup('a.example.com')).toEqual({ v4: ['240.0.0.1', '240.0.0.2'], v6: ['2001:db8::1'] });
    expect(t.size).toBe(1);
  });

  it('replace() swaps the whole table, and a bad entry leaves the old one in place', () => {
    const t = table();
    t.replace([{ hostname: 'new.demo.svc.cluster.local', vips: ['10.96.9.9'] }]);
    expect(t.lookup('reviews.demo.svc.cluster.local')).toBeUndefined();
    expect(t.lookup('new.demo.svc.cluster.local')).toEqual({ v4: ['10.96.9.9'], v6: [] });
    expect(() => t.replace([{ hostname: 'ok.example', vips: ['1.2.3.4'] }, { hostname: 'bad..name', vips: ['1.2.3.5'] }])).toThrow(
      expect.objectContaining({ code: DnsErrorCodes.INVALID_HOSTNAME }),
    );
    expect(() => t.replace([{ hostname: 'x.example', vips: ['not-an-ip'] }])).toThrow(
      expect.objectContaining({ code: DnsErrorCodes.INVALID_HOSTNAME }),
    );
    expect(t.lookup('new.demo.svc.cluster.local')).toBeDefined();
  });

  it('rejects hostnames that are not DNS names', () => {
    for (const bad of ['', '.', 'a'.repeat(64) + '.com', 'sp ace.com', 'a.*.com', '*']) {
      expect(() => new ServiceDnsTable([{ hostname: bad, vips: ['1.1.1.1'] }])).toThrow(
        expect.objectContaining({ code: DnsErrorCodes.INVALID_HOSTNAME }),
      );
    }
  });

  it('hands out copies: callers cannot change the table', () => {
    const t = table();
    t.lookup('ratings.demo.svc.cluster.local')!.v4.push('6.6.6.6');
    expect(t.lookup('ratings.demo.svc.cluster.local')!.v4).toEqual(['10.96.0.11']);
  });
});

describe('search path (ztunnel get_aliases semantics)', () => {
  const ctx = { namespace: 'demo' };

  it('the pod search path is <ns>.svc.<domain> svc.<domain> <domain>', () => {
    expect(podSearchDomains('demo')).toEqual(['demo.svc.cluster.local', 'svc.cluster.local', 'cluster.local']);
    expect(podSearchDomains('Demo', 'corp.internal.')).toEqual(['demo.svc.corp.internal', 'svc.corp.internal', 'corp.internal']);
  });

  it('answers the FQDN under the asked name, without a CNAME', () => {
    expect(findName(table(), 'reviews.demo.svc.cluster.local', ctx)).toEqual({
      recordName: 'reviews.demo.svc.cluster.local',
      cname: false,
      addresses: { v4: ['10.96.0.10'], v6: ['fd00:96::10'] },
    });
  });

  it.each([
    ['reviews', 'reviews'],
    ['reviews.demo', 'reviews.demo'],
    ['reviews.demo.svc', 'reviews.demo.svc'],
  ])('expands the bare Kubernetes form %s (answered under the asked name)', (q, owner) => {
    expect(findName(table(), q, ctx)).toMatchObject({ recordName: owner, cname: false, addresses: { v4: ['10.96.0.10'] } });
  });

  it.each([
    // glibc tries `reviews.demo` + each search domain: the first try already hits.
    ['reviews.demo.demo.svc.cluster.local', 'reviews.demo.svc.cluster.local'],
    ['reviews.demo.svc.cluster.local.cluster.local', 'reviews.demo.svc.cluster.local'],
    ['reviews.demo.svc.demo.svc.cluster.local', 'reviews.demo.svc.cluster.local'],
    ['db.other.demo.svc.cluster.local', 'db.other.svc.cluster.local'],
    ['api.example.com.demo.svc.cluster.local', 'api.example.com'],
  ])('answers %s, a name qualified by the search list, with a CNAME to %s', (q, canonical) => {
    expect(findName(table(), q, ctx)).toMatchObject({ recordName: canonical, cname: true });
  });

  it('only expands a one-label name into the pod’s own namespace', () => {
    expect(findName(table(), 'db', ctx)).toBeUndefined();
    expect(findName(table(), 'db', { namespace: 'other' })).toMatchObject({ addresses: { v4: ['10.96.1.5'] } });
    expect(findName(table(), 'db.other', ctx)).toMatchObject({ addresses: { v4: ['10.96.1.5'] } });
  });

  it('matches wildcard hosts under the asked name (no CNAME to a * name)', () => {
    expect(findName(table(), 'x.wild.example', ctx)).toEqual({
      recordName: 'x.wild.example',
      cname: false,
      addresses: { v4: ['240.240.0.2'], v6: [] },
    });
    expect(findName(table(), 'a.b.wild.example', ctx)).toMatchObject({ cname: false });
    expect(findName(table(), 'wild.example', ctx)).toBeUndefined();
  });

  it('leaves unknown names, in or out of the cluster domain, to the upstream', () => {
    for (const q of ['example.test', 'nope.demo.svc.cluster.local', 'nope', 'example.test.demo.svc.cluster.local', 'cluster.local']) {
      expect(findName(table(), q, ctx)).toBeUndefined();
    }
  });

  it('tries the asked name first, then its expansions, then stripped forms, without duplicates', () => {
    expect(candidateNames('reviews.demo.demo.svc.cluster.local', ctx).map((c) => `${c.name}${c.stripped ? ' (stripped)' : ''}`)).toEqual([
      'reviews.demo.demo.svc.cluster.local',
      'reviews.demo (stripped)',
      'reviews.demo.svc.cluster.local (stripped)',
      'reviews.demo.demo (stripped)',
      'reviews.demo.demo.svc (stripped)',
    ]);
  });

  it('honours a custom search path and cluster domain', () => {
    const t = new ServiceDnsTable([{ hostname: 'web.shop.svc.corp.internal', vips: ['10.0.0.1'] }]);
    const c = { namespace: 'shop', clusterDomain: 'corp.internal', searchDomains: ['shop.svc.corp.internal', 'corp.example'] };
    expect(findName(t, 'web', c)).toMatchObject({ addresses: { v4: ['10.0.0.1'] } });
    expect(findName(t, 'web.corp.example', c)).toMatchObject({ recordName: 'web.shop.svc.corp.internal', cname: true });
  });
});
