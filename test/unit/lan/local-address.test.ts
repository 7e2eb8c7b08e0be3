/** Which hub address a DNS answer carries: the interface the sender shares a subnet with. */
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { lanAddresses } from '../../../src/main/hub-urls';
import { localAddressFor } from '../../../src/main/lan/local-address';
import { bindProblem, highPortFor } from '../../../src/main/lan/bind-problem';
import { ERRORS } from '../../../src/shared/errors';

const v4 = (address: string, netmask: string, internal = false): NetworkInterfaceInfo => ({
  address,
  netmask,
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal,
  cidr: null,
});
const table = {
  lo: [v4('127.0.0.1', '255.0.0.0', true)],
  eth0: [v4('10.1.2.3', '255.255.0.0')],
  wlan0: [v4('192.168.4.1', '255.255.255.0')],
};

describe('localAddressFor', () => {
  it('answers the address of the interface on the sender subnet', () => {
    expect(localAddressFor('192.168.4.77', table)).toBe('192.168.4.1');
    expect(localAddressFor('10.1.200.9', table)).toBe('10.1.2.3');
    expect(localAddressFor('::ffff:192.168.4.9', table)).toBe('192.168.4.1');
  });
  it('answers 127.0.0.1 to loopback senders', () => {
    expect(localAddressFor('127.0.0.1', table)).toBe('127.0.0.1');
    expect(localAddressFor('127.5.5.5', table)).toBe('127.0.0.1');
  });
  it('falls back to the first LAN address for a routed sender, null with no address at all', () => {
    expect(localAddressFor('172.16.0.5', table)).toBe('10.1.2.3');
    expect(localAddressFor('172.16.0.5', { lo: table.lo })).toBeNull();
    expect(lanAddresses(() => table)).toEqual(['10.1.2.3', '192.168.4.1']);
  });
});

describe('bindProblem', () => {
  it('EACCES: the capability for the exact binary, or high ports with the redirect rules', () => {
    const p = bindProblem('sntp', '0.0.0.0', 123, 'EACCES', '/usr/local/bin/node');
    expect(p.code).toBe(ERRORS.lan_port_denied.code);
    expect(p.message).toContain('UDP 0.0.0.0:123');
    expect(p.fix).toContain("sudo setcap 'cap_net_bind_service=+ep' /usr/local/bin/node");
    expect(p.fix).toContain('--sntp-port 1123 --dns-port 1053');
    expect(p.fix).toContain(
      'sudo iptables -t nat -A PREROUTING -p udp --dport 123 -j REDIRECT --to-ports 1123',
    );
    expect(p.fix).toContain('udp dport 123 redirect to :1123');
    expect(bindProblem('dns', '0.0.0.0', 53, 'EPERM', '/opt/My App/app').fix).toContain(
      "'/opt/My App/app'",
    );
  });
  it('EADDRINUSE: how to find the holder and another port with its redirect', () => {
    const p = bindProblem('dns', '0.0.0.0', 53, 'EADDRINUSE', 'node');
    expect(p.code).toBe(ERRORS.lan_port_in_use.code);
    expect(p.fix).toContain("ss -ulpn 'sport = :53'");
    expect(p.fix).toContain('--dns-port 1053');
    expect(bindProblem('dns', '0.0.0.0', 5300, 'EADDRINUSE', 'node').fix).toContain(
      '--dns-port 5301',
    );
    expect(bindProblem('dns', '10.9.9.9', 53, 'EADDRNOTAVAIL', 'node').code).toBe(
      ERRORS.lan_bind_failed.code,
    );
    expect(highPortFor(53)).toBe(1053);
  });
});
