// common/hbone/authority.ts: the HBONE :authority is an IP literal and a port, nothing else.
import { formatAuthority, parseAuthority } from '../../common/hbone/authority';
import { HboneError, HboneErrorCodes } from '../../common/hbone/errors';
import { thrown } from '../support/thrown';

describe('parseAuthority', () => {
  it.each([
    ['10.1.2.3:8080', { host: '10.1.2.3', port: 8080 }],
    ['[fd00::1]:15008', { host: 'fd00::1', port: 15008 }],
    ['[::ffff:10.0.0.1]:1', { host: '::ffff:10.0.0.1', port: 1 }],
    ['0.0.0.0:65535', { host: '0.0.0.0', port: 65535 }],
  ])('parses %s', (text, expected) => {
    expect(parseAuthority(text)).toEqual(expected);
  });

  it.each([
    ['', 'is empty'],
    ['reviews.bookinfo:9080', 'must be an IP address and port, not a host name'],
    ['10.1.2.3', 'has no port'],
    ['fd00::1:80', 'holds an IPv6 address without brackets'],
    ['[fd00::1]', 'needs ":<port>" after the IPv6 address'],
    ['[fd00::1:80', 'opens "[" without closing it'],
    ['[10.0.0.1]:80', 'does not hold an IPv6 address inside [ ]'],
    ['[fe80::1%eth0]:80', 'does not hold an IPv6 address inside [ ]'],
    ['10.1.2.3:0', 'outside 1-65535'],
    ['10.1.2.3:65536', 'outside 1-65535'],
    ['10.1.2.3:+80', 'not a decimal number'],
    ['10.1.2.3:0x50', 'not a decimal number'],
    ['10.1.2.3:', 'not a decimal number'],
    ['010.1.2.3:80', 'not a host name'],
    [`${'1'.repeat(80)}:80`, 'longer than 64 characters'],
  ])('refuses %j: %s', (text, why) => {
    const e = thrown(() => parseAuthority(text));
    expect(e).toBeInstanceOf(HboneError);
    expect((e as HboneError).code).toBe(HboneErrorCodes.BAD_AUTHORITY);
    expect((e as HboneError).message).toContain(why);
    expect((e as HboneError).message.length).toBeLessThan(160);
  });
});

describe('formatAuthority', () => {
  it('brackets IPv6 and round-trips through parseAuthority', () => {
    expect(formatAuthority('10.0.0.1', 80)).toBe('10.0.0.1:80');
    expect(formatAuthority('fd00::1', 9080)).toBe('[fd00::1]:9080');
    expect(parseAuthority(formatAuthority('fd00::1', 9080))).toEqual({ host: 'fd00::1', port: 9080 });
  });

  it('refuses host names and bad ports', () => {
    expect(() => formatAuthority('reviews', 80)).toThrow(/not an IP address/);
    expect(() => formatAuthority('10.0.0.1', 0)).toThrow(/outside 1-65535/);
    expect(() => formatAuthority('10.0.0.1', 1.5)).toThrow(/outside 1-65535/);
  });
});
