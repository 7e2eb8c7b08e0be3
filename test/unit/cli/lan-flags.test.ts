/** `serve`'s LAN-service flags (issue 12): only the flags given, checked like `PUT /api/v2/lan`. */
import { describe, expect, it } from 'vitest';
import { parseLanFlags } from '../../../src/main/cli/lan-flags';

describe('parseLanFlags', () => {
  it('returns only the flags given, as config settings', () => {
    expect(parseLanFlags({})).toEqual({});
    expect(
      parseLanFlags({
        lanServices: true,
        sntpPort: '1123',
        dnsPort: '1053',
        dnsNames: 'time.google.com, *.pool.ntp.org,hub.lan',
        dnsUpstream: '192.168.1.1:5353',
        lanAddress: '192.168.1.50',
      }),
    ).toEqual({
      enabled: true,
      sntpPort: 1123,
      dnsPort: 1053,
      dnsNames: ['time.google.com', '*.pool.ntp.org', 'hub.lan'],
      dnsUpstream: '192.168.1.1:5353',
      lanAddress: '192.168.1.50',
    });
  });

  it('clears a saved upstream or address for the run with off / auto', () => {
    expect(parseLanFlags({ dnsUpstream: 'off', lanAddress: 'auto' })).toEqual({
      dnsUpstream: null,
      lanAddress: null,
    });
  });

  it('refuses bad values naming the flag', () => {
    expect(() => parseLanFlags({ sntpPort: '70000' })).toThrow(/--sntp-port/);
    expect(() => parseLanFlags({ dnsPort: 'x' })).toThrow(/--dns-port/);
    expect(() => parseLanFlags({ dnsNames: 'bad name' })).toThrow(/--dns-names/);
    expect(() => parseLanFlags({ dnsUpstream: 'dns.example' })).toThrow(/--dns-upstream/);
    expect(() => parseLanFlags({ lanAddress: '10.0.0.300' })).toThrow(/--lan-address/);
  });
});
