// common/net/ip.ts: the 16-byte, v4-mapped address form every eBPF map key uses.
import { bytesToIp, ipToBytes, isV4Mapped, parseCidr } from '../../common/net/ip';
import { AmbitError, ErrorCodes } from '../../common/errors';
import { thrown } from '../support/thrown';

const hex = (b: Buffer): string => b.toString('hex');

describe('ipToBytes', () => {
  it('stores IPv4 in its v4-mapped form ::ffff:a.b.c.d', () => {
    const b = ipToBytes('10.1.2.3');
    expect(b).toHaveLength(16);
    expect(hex(b)).toBe('00000000000000000000ffff0a010203');
    expect(isV4Mapped(b)).toBe(true);
  });

  it('stores 0.0.0.0 and 255.255.255.255 byte for byte', () => {
    expect(hex(ipToBytes('0.0.0.0'))).toBe('00000000000000000000ffff00000000');
    expect(hex(ipToBytes('255.255.255.255'))).toBe('00000000000000000000ffffffffffff');
  });

  it('expands IPv6 groups and :: in network order', () => {
    expect(hex(ipToBytes('::1'))).toBe('00000000000000000000000000000001');
    expect(hex(ipToBytes('::'))).toBe('00000000000000000000000000000000');
    expect(hex(ipToBytes('fd00:a3b1:1::10'))).toBe('fd00a3b1000100000000000000000010');
    expect(hex(ipToBytes('2001:db8::'))).toBe('20010db8000000000000000000000000');
    expect(hex(ipToBytes('2001:0db8:0000:0000:0000:ff00:0042:8329'))).toBe('20010db8000000000000ff0000428329');
  });

  it('reads an embedded IPv4 tail, so ::ffff:1.2.3.4 equals 1.2.3.4', () => {
    expect(ipToBytes('::ffff:1.2.3.4').equals(ipToBytes('1.2.3.4'))).toBe(true);
    expect(hex(ipToBytes('64:ff9b::192.0.2.33'))).toBe('0064ff9b0000000000000000c0000221');
  });

  it('does not treat IPv6 addresses as v4-mapped', () => {
    expect(isV4Mapped(ipToBytes('::1'))).toBe(false);
    expect(isV4Mapped(ipToBytes('::'))).toBe(false);
    // ::ffff:0:1.2.3.4 (IPv4-translated, RFC 2765) differs from ::ffff:1.2.3.4 by one word.
    expect(isV4Mapped(ipToBytes('::ffff:0:1.2.3.4'))).toBe(false);
  });

  it.each(['', 'localhost', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.4/8', 'fd00::g', '1:2:3:4:5:6:7:8:9', ':::1', ' 1.2.3.4'])(
    'rejects %p with AMBIT_ERR_INVALID_ARGUMENT naming the input',
    (input) => {
      const e = thrown(() => ipToBytes(input));
      expect(e).toBeInstanceOf(AmbitError);
      expect(e).toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT, name: 'AmbitError' });
      expect((e as Error).message).toContain(`'${input}'`);
      expect((e as Error).message).toMatch(/not a valid IP address/);
    },
  );
});

describe('bytesToIp', () => {
  // RFC 5952 section 4: lowercase, no leading zeros, the longest (first on a tie) run of
  // two or more zero groups becomes '::', a single zero group stays '0'.
  it.each([
    ['::1', '::1'],
    ['::', '::'],
    ['fd00:a3b1:1::10', 'fd00:a3b1:1::10'],
    ['FD00:A3B1:0001:0000:0000:0000:0000:0010', 'fd00:a3b1:1::10'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8::1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ])('%s round-trips to %s', (input, canonical) => {
    expect(bytesToIp(ipToBytes(input))).toBe(canonical);
    // The canonical text is a fixed point.
    expect(bytesToIp(ipToBytes(canonical))).toBe(canonical);
  });

  it('prints v4-mapped bytes as dotted IPv4, whichever way they were written', () => {
    expect(bytesToIp(ipToBytes('1.2.3.4'))).toBe('1.2.3.4');
    expect(bytesToIp(ipToBytes('::ffff:1.2.3.4'))).toBe('1.2.3.4');
    expect(bytesToIp(ipToBytes('::ffff:0102:0304'))).toBe('1.2.3.4');
    expect(bytesToIp(ipToBytes('127.0.0.6'))).toBe('127.0.0.6');
  });

  it('rejects a buffer that is not 16 bytes', () => {
    for (const len of [0, 4, 15, 17]) {
      const e = thrown(() => bytesToIp(Buffer.alloc(len)));
      expect(e).toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT });
      expect((e as Error).message).toContain(`got ${len}`);
    }
  });
});

describe('parseCidr', () => {
  it('parses an IPv4 CIDR: prefix128 = 96 + prefix, host bits cleared', () => {
    const c = parseCidr('10.1.2.3/8');
    expect(c).toMatchObject({ family: 4, prefix128: 104, text: '10.1.2.3/8' });
    expect(hex(c.bytes)).toBe('00000000000000000000ffff0a000000');
  });

  it('masks host bits inside a byte', () => {
    expect(bytesToIp(parseCidr('192.168.255.255/20').bytes)).toBe('192.168.240.0');
    expect(bytesToIp(parseCidr('10.0.0.255/25').bytes)).toBe('10.0.0.128');
    expect(bytesToIp(parseCidr('10.0.0.255/31').bytes)).toBe('10.0.0.254');
  });

  it('keeps the v4-mapped prefix intact for /0', () => {
    const c = parseCidr('1.2.3.4/0');
    expect(c.prefix128).toBe(96);
    expect(hex(c.bytes)).toBe('00000000000000000000ffff00000000');
  });

  it('treats a bare address as a host route', () => {
    expect(parseCidr('10.0.0.7')).toMatchObject({ family: 4, prefix128: 128 });
    expect(bytesToIp(parseCidr('10.0.0.7').bytes)).toBe('10.0.0.7');
    expect(parseCidr('fd00::7')).toMatchObject({ family: 6, prefix128: 128 });
    expect(bytesToIp(parseCidr('fd00::7').bytes)).toBe('fd00::7');
  });

  it('parses IPv6 CIDRs with the prefix as given', () => {
    const c = parseCidr('2001:db8:abcd:12ff::1/52');
    expect(c).toMatchObject({ family: 6, prefix128: 52 });
    expect(bytesToIp(c.bytes)).toBe('2001:db8:abcd:1000::');
    expect(bytesToIp(parseCidr('fd00::1/0').bytes)).toBe('::');
    expect(parseCidr('::1/128').prefix128).toBe(128);
  });

  it.each(['10.0.0.0/33', '10.0.0.0/x', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8.5', 'fd00::/129', '10.0.0.0/ 8'])(
    'rejects the prefix length in %p',
    (input) => {
      const e = thrown(() => parseCidr(input));
      expect(e).toBeInstanceOf(AmbitError);
      expect(e).toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT });
      expect((e as Error).message).toContain(`'${input}'`);
      expect((e as Error).message).toMatch(/prefix length must be 0\.\.(32|128)/);
    },
  );

  it.each(['', '/8', 'not-an-ip/8', '10.0.0/8', 'fd00:::/8'])('rejects the address in %p', (input) => {
    const e = thrown(() => parseCidr(input));
    expect(e).toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT });
    expect((e as Error).message).toContain(`'${input}'`);
    expect((e as Error).message).toMatch(/expected a CIDR/);
  });
});
