/**
 * The listen-queue drop counter the storm benchmark reports per side (bench/proc-stats.ts): read
 * from /proc/net/netstat's pairs of lines (names, then values) by section and name.
 */
import { describe, expect, it } from 'vitest';
import { listenOverflows, netstatField, overflowsBetween } from '../../../bench/proc-stats';

const SAMPLE = [
  'TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops',
  'TcpExt: 6295 19612 47718 47718',
  'IpExt: InNoRoutes ListenOverflows',
  'IpExt: 3 99',
  '',
].join('\n');

describe('netstat counters', () => {
  it('reads a field of the named section only', () => {
    expect(netstatField(SAMPLE, 'TcpExt:', 'ListenOverflows')).toBe(47718);
    expect(netstatField(SAMPLE, 'IpExt:', 'ListenOverflows')).toBe(99);
    expect(netstatField(SAMPLE, 'TcpExt:', 'SyncookiesSent')).toBe(6295);
  });

  it('is null for a missing section, field or value', () => {
    expect(netstatField(SAMPLE, 'MPTcpExt:', 'ListenOverflows')).toBeNull();
    expect(netstatField(SAMPLE, 'TcpExt:', 'NoSuchField')).toBeNull();
    expect(
      netstatField('TcpExt: ListenOverflows\nTcpExt:', 'TcpExt:', 'ListenOverflows'),
    ).toBeNull();
    expect(netstatField('', 'TcpExt:', 'ListenOverflows')).toBeNull();
  });

  it('differences need both readings; this machine has the counter', () => {
    expect(overflowsBetween(10, 25)).toBe(15);
    expect(overflowsBetween(null, 25)).toBeNull();
    expect(overflowsBetween(10, null)).toBeNull();
    expect(listenOverflows()).toBeGreaterThanOrEqual(0);
  });
});
