/**
 * Destination policy of HTTP.Request (PROTOCOL.md 2): which addresses a device may make the hub
 * connect to. Every textual disguise of loopback must land in the same class.
 */
import { describe, expect, it } from 'vitest';
import {
  checkUrl,
  classifyAddress,
  ipBytes,
  refusalOf,
  type DestinationPolicy,
} from '../../../src/main/data/http-request-guard';

const DEFAULTS: DestinationPolicy = {
  allowLoopback: false,
  allowLinkLocal: false,
  allowPrivate: true,
  ownPorts: [8009, 8443],
  localAddresses: ['127.0.0.1', '::1', '192.168.1.20', 'fe80::1'],
};

/** The address a URL's host becomes after WHATWG normalisation, brackets removed. */
const hostOf = (url: string): string => checkUrl(url).host;

describe('ipBytes', () => {
  it('parses IPv4, IPv6, embedded dotted quads and zones', () => {
    expect(ipBytes('127.0.0.1')).toEqual([127, 0, 0, 1]);
    expect(ipBytes('::1')).toEqual([...new Array<number>(15).fill(0), 1]);
    expect(ipBytes('::ffff:127.0.0.1')).toEqual(ipBytes('::ffff:7f00:1'));
    expect(ipBytes('[::ffff:7f00:1]')).toEqual(ipBytes('0:0:0:0:0:ffff:7f00:1'));
    expect(ipBytes('fe80::1%eth0')).toEqual(ipBytes('fe80::1'));
    expect(ipBytes('example.com')).toBeNull();
    expect(ipBytes('0177.0.0.1')).toBeNull();
  });
});

describe('classifyAddress', () => {
  const cases: Array<[string, string]> = [
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['2002:7f00:1::', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['169.254.169.254', 'link_local'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['fe80::1', 'link_local'],
    ['febf::1', 'link_local'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd00::2', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['172.15.255.255', 'public'],
    ['100.128.0.1', 'public'],
    ['2606:4700::1111', 'public'],
    ['::ffff:8.8.8.8', 'public'],
  ];
  it.each(cases)('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });
  it('is null for names', () => {
    expect(classifyAddress('localhost')).toBeNull();
  });
});

describe('URL forms of loopback normalise before the check', () => {
  it.each([
    'http://2130706433/',
    'http://0x7f.1/',
    'http://0x7f000001/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://%31%32%37.0.0.1/',
    'http://[::ffff:127.0.0.1]/',
    'http://[0:0:0:0:0:ffff:7f00:1]/',
    'http://[::1]/',
  ])('%s is loopback', (url) => {
    expect(classifyAddress(hostOf(url))).toBe('loopback');
  });
  it('http://0/ is the unspecified address', () => {
    expect(classifyAddress(hostOf('http://0/'))).toBe('unspecified');
  });
});

describe('checkUrl', () => {
  it('accepts http and https with their default ports', () => {
    expect(checkUrl('http://example.com/a?b=1')).toMatchObject({ host: 'example.com', port: 80 });
    expect(checkUrl('https://example.com:8443/')).toMatchObject({ port: 8443 });
    expect(checkUrl('HTTPS://Example.COM/')).toMatchObject({ host: 'example.com', port: 443 });
  });
  it.each([
    'file:///etc/passwd',
    'ftp://example.com/',
    'gopher://example.com/',
    'data:text/plain,hi',
    'javascript:alert(1)',
    'not a url',
    'http://user:pw@example.com/',
    'http://example.com:0/',
  ])('refuses %s', (url) => {
    expect(() => checkUrl(url)).toThrow();
  });
  it('resolves a relative redirect against its base', () => {
    const base = new URL('http://example.com/a/b');
    expect(checkUrl('/c', base).url.href).toBe('http://example.com/c');
  });
});

describe('refusalOf', () => {
  it('refuses loopback, link-local, unspecified, multicast and reserved by default', () => {
    for (const ip of [
      '127.0.0.1',
      '::1',
      '::ffff:127.0.0.1',
      '169.254.169.254',
      'fe80::1',
      '0.0.0.0',
      '::',
      '224.0.0.1',
      '255.255.255.255',
    ]) {
      expect(refusalOf(ip, 80, DEFAULTS), ip).not.toBeNull();
    }
  });

  it('allows public and (by default) private addresses', () => {
    expect(refusalOf('8.8.8.8', 443, DEFAULTS)).toBeNull();
    expect(refusalOf('10.0.0.5', 80, DEFAULTS)).toBeNull();
    expect(refusalOf('fd00::5', 80, DEFAULTS)).toBeNull();
  });

  it('refuses private ranges when allowPrivate is off', () => {
    const p = { ...DEFAULTS, allowPrivate: false };
    expect(refusalOf('10.0.0.5', 80, p)).toMatch(/private/);
    expect(refusalOf('::ffff:192.168.0.1', 80, p)).toMatch(/private/);
  });

  it('the allow switches open loopback and link-local', () => {
    const p = { ...DEFAULTS, allowLoopback: true, allowLinkLocal: true };
    expect(refusalOf('127.0.0.1', 3000, p)).toBeNull();
    expect(refusalOf('::ffff:7f00:1', 3000, p)).toBeNull();
    expect(refusalOf('169.254.169.254', 80, p)).toBeNull();
    // Nothing opens the unspecified address or multicast.
    expect(refusalOf('0.0.0.0', 3000, p)).not.toBeNull();
    expect(refusalOf('224.0.0.1', 3000, p)).not.toBeNull();
  });

  it("refuses the hub's own ports on any of its addresses, even with loopback allowed", () => {
    const p = { ...DEFAULTS, allowLoopback: true, allowLinkLocal: true };
    for (const ip of [
      '127.0.0.1',
      '127.0.0.2',
      '::1',
      '::ffff:127.0.0.1',
      '0.0.0.0',
      '192.168.1.20',
      '::ffff:192.168.1.20',
      'fe80::1',
    ]) {
      expect(refusalOf(ip, 8009, p), ip).toMatch(/own listener/);
      expect(refusalOf(ip, 8443, p), ip).toMatch(/own listener/);
    }
    // Another machine's 8009 is its own business.
    expect(refusalOf('192.168.1.21', 8009, p)).toBeNull();
    // The hub machine's other ports follow the class rules.
    expect(refusalOf('192.168.1.20', 8080, p)).toBeNull();
  });
});
