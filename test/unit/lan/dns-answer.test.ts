/**
 * The DNS responder's pure core (issue 12): which names are answered, with what, what is refused,
 * forwarded or dropped; queries and replies are built and read with dns-packet, as resolvers do.
 */
import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import {
  RCODE,
  decideDns,
  isAnswerTo,
  nameMatcher,
  servfail,
  type DnsAnswerOptions,
} from '../../../src/main/lan/dns-answer';
import { DEFAULT_LAN } from '../../../src/main/config';

const opts = (o: Partial<DnsAnswerOptions> = {}): DnsAnswerOptions => ({
  matches: nameMatcher(DEFAULT_LAN.dnsNames),
  address: () => '192.168.4.1',
  ttlS: 60,
  maxQueryBytes: 1232,
  forwarding: false,
  ...o,
});

function query(name: string, type: 'A' | 'AAAA' | 'MX' | 'TXT' = 'A', id = 4242): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name }],
  });
}

function replyOf(msg: Buffer, o = opts()): dnsPacket.DecodedPacket & { rcode?: string } {
  const d = decideDns(msg, o);
  if (d.kind !== 'reply') throw new Error(`expected a reply, got ${d.kind}`);
  return dnsPacket.decode(d.packet);
}

describe('nameMatcher', () => {
  const m = nameMatcher(['time.google.com', '*.pool.ntp.org', 'pool.ntp.org', 'MDASH.net.']);
  it('matches exact names case-insensitively, with or without the root dot', () => {
    expect(m('time.google.com')).toBe(true);
    expect(m('TIME.Google.COM.')).toBe(true);
    expect(m('mdash.net')).toBe(true);
    expect(m('google.com')).toBe(false);
    expect(m('xtime.google.com')).toBe(false);
  });
  it('matches every subdomain of a `*.` name, not lookalikes', () => {
    expect(m('0.pool.ntp.org')).toBe(true);
    expect(m('europe.3.pool.ntp.org')).toBe(true);
    expect(m('pool.ntp.org')).toBe(true);
    expect(m('evilpool.ntp.org')).toBe(false);
    expect(nameMatcher(['*.pool.ntp.org'])('pool.ntp.org')).toBe(false);
  });
});

describe('decideDns', () => {
  it('answers A for a configured name with the address, TTL 60, authoritative, id kept', () => {
    const r = replyOf(query('time.google.com'));
    expect(r.id).toBe(4242);
    expect(r.type).toBe('response');
    expect(r.rcode).toBe('NOERROR');
    expect(r.flag_aa).toBe(true);
    expect(r.flag_rd).toBe(true);
    expect(r.questions).toEqual([{ name: 'time.google.com', type: 'A', class: 'IN' }]);
    expect(r.answers).toEqual([
      expect.objectContaining({ type: 'A', name: 'time.google.com', ttl: 60, data: '192.168.4.1' }),
    ]);
  });

  it('answers AAAA (and other types) of a configured name with an empty NOERROR', () => {
    for (const type of ['AAAA', 'MX', 'TXT'] as const) {
      const r = replyOf(query('2.pool.ntp.org', type));
      expect(r.rcode).toBe('NOERROR');
      expect(r.answers).toEqual([]);
    }
  });

  it('refuses other names cleanly (REFUSED, question echoed) when not forwarding', () => {
    const r = replyOf(query('example.com'));
    expect(r.rcode).toBe('REFUSED');
    expect(r.flag_ra).toBe(false);
    expect(r.questions?.[0]?.name).toBe('example.com');
    expect(r.answers).toEqual([]);
  });

  it('forwards other names when an upstream is configured; configured names stay local', () => {
    expect(decideDns(query('example.com', 'A', 7), opts({ forwarding: true }))).toMatchObject({
      kind: 'forward',
      id: 7,
    });
    expect(replyOf(query('mdash.net'), opts({ forwarding: true })).flag_ra).toBe(true);
  });

  it('drops malformed, oversized and response packets, never throws', () => {
    const bad = [
      Buffer.alloc(0),
      Buffer.from([1, 2, 3]),
      Buffer.from('this is not a dns packet at all, just text'),
      // Header claiming 65535 questions, no body.
      Buffer.from([0, 1, 1, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0]),
      // A name compression pointer to itself.
      Buffer.concat([Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([0xc0, 12])]),
    ];
    for (const b of bad)
      expect(decideDns(b, opts())).toEqual({ kind: 'drop', reason: 'malformed' });
    expect(decideDns(Buffer.alloc(2000), opts())).toEqual({ kind: 'drop', reason: 'too_large' });
    const response = dnsPacket.encode({
      type: 'response',
      id: 1,
      questions: [{ type: 'A', name: 'a.b' }],
    });
    expect(decideDns(response, opts())).toEqual({ kind: 'drop', reason: 'not_query' });
  });

  it('takes a query of exactly dnsMaxQueryBytes, drops one byte more (config edge)', () => {
    const q = query('time.google.com');
    expect(decideDns(q, opts({ maxQueryBytes: q.length })).kind).toBe('reply');
    expect(decideDns(q, opts({ maxQueryBytes: q.length - 1 }))).toEqual({
      kind: 'drop',
      reason: 'too_large',
    });
  });

  it('answers FORMERR to a query without exactly one question, NOTIMP to other opcodes', () => {
    const none = dnsPacket.encode({ type: 'query', id: 1, questions: [] });
    expect(replyOf(none).rcode).toBe('FORMERR');
    const two = dnsPacket.encode({
      type: 'query',
      id: 1,
      questions: [
        { type: 'A', name: 'a.com' },
        { type: 'A', name: 'b.com' },
      ],
    });
    expect(replyOf(two).rcode).toBe('FORMERR');
    const notify = query('mdash.net');
    notify.writeUInt16BE(notify.readUInt16BE(2) | (4 << 11), 2); // opcode NOTIFY
    expect(replyOf(notify).rcode).toBe('NOTIMP');
  });
});

describe('forwarding helpers', () => {
  it('servfail keeps id and question; isAnswerTo matches id and response bit only', () => {
    const q = query('example.com', 'A', 99);
    const s = dnsPacket.decode(servfail(q)!) as dnsPacket.DecodedPacket & { rcode?: string };
    expect(s.id).toBe(99);
    expect(s.rcode).toBe('SERVFAIL');
    expect(s.questions?.[0]?.name).toBe('example.com');
    expect(servfail(Buffer.from([1]))).toBeNull();
    expect(isAnswerTo(servfail(q)!, 99)).toBe(true);
    expect(isAnswerTo(servfail(q)!, 98)).toBe(false);
    expect(isAnswerTo(q, 99)).toBe(false);
    expect(RCODE.REFUSED).toBe(5);
  });
});
