/**
 * The DNS responder's handler (issue 12): answers with the address of the interface the query
 * came in on, read from the interface table it is given (the hub's, which a test injects), and
 * reads that table once for a burst of queries, not once per query.
 */
import type { RemoteInfo } from 'node:dgram';
import type { NetworkInterfaceInfo } from 'node:os';
import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { dnsHandler, type DnsCounters } from '../../../src/main/lan/dns-server';
import { cachedInterfaces } from '../../../src/main/lan/local-address';

const v4 = (address: string, netmask: string): NetworkInterfaceInfo => ({
  address,
  netmask,
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal: false,
  cidr: null,
});

const query = (id: number): Buffer =>
  dnsPacket.encode({ type: 'query', id, questions: [{ type: 'A', name: 'time.google.com' }] });

const from = (address: string): RemoteInfo => ({ address, family: 'IPv4', port: 5000, size: 0 });

function handlerWith(read: () => NodeJS.Dict<NetworkInterfaceInfo[]>, now: () => number) {
  const counters: DnsCounters = { answered: 0, refused: 0, forwarded: 0, failed: 0, dropped: {} };
  const handle = dnsHandler(counters, {
    names: ['time.google.com'],
    lanAddress: null,
    interfaces: cachedInterfaces(read, 1000, now),
    upstream: null,
    ttlS: 60,
    maxQueryBytes: 1232,
    maxReplyBytes: 4096,
    upstreamTimeoutMs: 100,
    maxForwards: 1,
  });
  return async (sender: string, id: number): Promise<string | undefined> => {
    let out: Buffer | undefined;
    await handle(query(id), from(sender), (b) => (out = b));
    const a = out && dnsPacket.decode(out).answers?.[0];
    return a?.type === 'A' ? a.data : undefined;
  };
}

describe('dnsHandler interface table', () => {
  it('answers each sender with the injected interface on its subnet', async () => {
    const table = {
      eth0: [v4('10.1.2.3', '255.255.0.0')],
      wlan0: [v4('192.0.2.1', '255.255.255.0')],
    };
    const ask = handlerWith(
      () => table,
      () => 0,
    );
    expect(await ask('192.0.2.77', 1)).toBe('192.0.2.1');
    expect(await ask('10.1.99.5', 2)).toBe('10.1.2.3');
  });

  it('reads the table once per second however many queries arrive, then again', async () => {
    let reads = 0;
    let address = '192.0.2.1';
    let clock = 5_000;
    const ask = handlerWith(
      () => {
        reads++;
        return { wlan0: [v4(address, '255.255.255.0')] };
      },
      () => clock,
    );
    for (let i = 0; i < 200; i++) expect(await ask('192.0.2.77', i)).toBe('192.0.2.1');
    expect(reads).toBe(1);
    // A new address shows once the cached read is older than the interval.
    address = '192.0.2.2';
    clock += 999;
    expect(await ask('192.0.2.77', 500)).toBe('192.0.2.1');
    clock += 1;
    expect(await ask('192.0.2.77', 501)).toBe('192.0.2.2');
    expect(reads).toBe(2);
  });
});
