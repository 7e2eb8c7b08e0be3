import { describe, expect, it } from 'vitest';
import {
  ANY,
  FLEETBENCH_SERVICE,
  answerQuestions,
  goodbye,
  hostCandidates,
  hubRecords,
  instanceCandidates,
  namesTaken,
  type AdvertisedHub,
} from '../../../src/main/lan/mdns-records';

const hub: AdvertisedHub = {
  host: 'fleetbench.local',
  instance: 'Fleetbench on bench',
  addresses: ['192.168.1.10', '10.0.0.5'],
  port: 8009,
  txt: { device_url: 'ws://192.168.1.10:8009/api/v2/rpc', id: 'abc123abc123abc1' },
};
const records = hubRecords(hub);
const fqdn = `Fleetbench on bench.${FLEETBENCH_SERVICE}`;

describe('mDNS records of the hub (RFC 6762, 6763)', () => {
  it('has A records for every address, and a resolvable _fleetbench._tcp service', () => {
    const a = records.filter((r) => r.type === 'A').map((r) => r.data);
    expect(a).toEqual(['192.168.1.10', '10.0.0.5']);
    const srv = records.find((r) => r.type === 'SRV' && r.name === fqdn);
    expect(srv?.data).toMatchObject({ port: 8009, target: 'fleetbench.local' });
    const txt = records.find((r) => r.type === 'TXT' && r.name === fqdn);
    expect(txt?.data).toContain('device_url=ws://192.168.1.10:8009/api/v2/rpc');
    expect(records.some((r) => r.type === 'PTR' && r.name === '_http._tcp.local')).toBe(true);
  });

  it('answers a PTR browse with SRV, TXT and A records in the additional section', () => {
    const got = answerQuestions(records, [{ name: FLEETBENCH_SERVICE, type: 'PTR' }]);
    expect(got?.answers.map((r) => r.type)).toEqual(['PTR']);
    expect(got?.additionals.map((r) => r.type).sort()).toEqual(['A', 'A', 'SRV', 'TXT']);
  });

  it('answers A and ANY for the host name case-insensitively, and nothing for other names', () => {
    expect(
      answerQuestions(records, [{ name: 'FleetBench.local', type: 'A' }])?.answers,
    ).toHaveLength(2);
    expect(
      answerQuestions(records, [{ name: 'fleetbench.local', type: ANY }])?.answers,
    ).toHaveLength(2);
    expect(answerQuestions(records, [{ name: 'other.local', type: 'A' }])).toBeNull();
    expect(answerQuestions(records, [{ name: 'fleetbench.local', type: 'AAAA' }])).toBeNull();
  });

  it('caps TTLs at 10 s and drops cache-flush for a legacy unicast resolver (RFC 6762 6.7)', () => {
    const got = answerQuestions(records, [{ name: 'fleetbench.local', type: 'A' }], {
      legacy: true,
    });
    for (const r of got?.answers ?? []) {
      expect(r.ttl).toBe(10);
      expect(r.flush).toBe(false);
    }
  });

  it('a probe sees a name as taken only when a live record names it', () => {
    const cands = ['fleetbench.local', 'fleetbench-bench.local'];
    expect([...namesTaken(records, cands)]).toEqual(['fleetbench.local']);
    expect(namesTaken(goodbye(records), cands).size).toBe(0);
  });

  it('falls back to names with the machine host name, then the hub id', () => {
    expect(hostCandidates('fleetbench', 'Bench-PC.lan', 'abc123abc123abc1')).toEqual([
      'fleetbench.local',
      'fleetbench-bench-pc.local',
      'fleetbench-bench-pc-abc123.local',
    ]);
    expect(hostCandidates('My Hub!', '', 'x')).toEqual([
      'my-hub.local',
      'my-hub-hub.local',
      'my-hub-hub-x.local',
    ]);
    const inst = instanceCandidates('bench.example.com', 'abc123abc123abc1');
    expect(inst).toEqual(['Fleetbench on bench', 'Fleetbench on bench (abc123)']);
    for (const i of inst) expect(i).not.toContain('.');
  });
});
