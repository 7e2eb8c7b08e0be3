import { describe, expect, it } from 'vitest';
import {
  ImprovCommand,
  ImprovDecoder,
  ImprovType,
  encodeImprovPacket,
  encodeImprovRpc,
  encodeImprovRpcResult,
  encodeWifiSettings,
  improvErrorText,
  parseImprovRpc,
  parseImprovRpcResult,
  parseImprovStrings,
} from '../../../../src/main/flasher/provision/improv-serial';

describe('Improv packet encoding', () => {
  it('builds header, version, type, length, data, checksum and newline', () => {
    // Request current state: RPC [0x02, 0x00]; checksum = sum("IMPROV",1,3,2,2,0) & 0xff.
    const p = encodeImprovRpc(ImprovCommand.REQUEST_CURRENT_STATE);
    const sum = [...Buffer.from('IMPROV'), 1, 3, 2, 2, 0].reduce((a, b) => a + b, 0) & 0xff;
    expect([...p]).toEqual([...Buffer.from('IMPROV'), 1, 3, 2, 2, 0, sum, 10]);
  });

  it('encodes Wi-Fi settings as length-prefixed ssid and password', () => {
    const p = encodeWifiSettings('MyNet', 'secret123');
    const data = p.subarray(9, 9 + (p[8] ?? 0));
    expect(data[0]).toBe(0x01);
    expect(data[1]).toBe(1 + 5 + 1 + 9);
    expect(parseImprovRpc(data)?.command).toBe(1);
    expect(parseImprovStrings(parseImprovRpc(data)!.payload)).toEqual(['MyNet', 'secret123']);
  });

  it('refuses oversized data', () => {
    expect(() => encodeImprovPacket(1, new Uint8Array(256))).toThrow(RangeError);
    expect(() => encodeWifiSettings('x'.repeat(300), '')).toThrow(RangeError);
  });
});

describe('ImprovDecoder', () => {
  const state = encodeImprovPacket(ImprovType.CURRENT_STATE, Uint8Array.from([0x02]));
  const result = encodeImprovRpcResult(ImprovCommand.SEND_WIFI_SETTINGS, ['http://10.0.0.5/']);

  it('decodes packets mixed with log lines', () => {
    const d = new ImprovDecoder();
    const stream = Buffer.concat([
      Buffer.from('[I][app:029]: Running\r\n'),
      state,
      Buffer.from('[D][wifi]: scanning'),
      result,
    ]);
    const out = d.push(stream);
    expect(out).toEqual([
      { kind: 'text', text: '[I][app:029]: Running' },
      { kind: 'packet', packet: { type: 1, data: Uint8Array.from([2]) } },
      { kind: 'packet', packet: { type: 4, data: result.subarray(9, 9 + (result[8] ?? 0)) } },
      // Log text before a packet is completed by the next newline (here the packet's own "\n").
      { kind: 'text', text: '[D][wifi]: scanning' },
    ]);
    const r = out[2];
    if (r?.kind !== 'packet') throw new Error('expected packet');
    expect(parseImprovRpcResult(r.packet.data)).toEqual({
      command: 1,
      strings: ['http://10.0.0.5/'],
    });
  });

  it('reassembles byte by byte', () => {
    const d = new ImprovDecoder();
    const out = [...Buffer.concat([state, result])].flatMap((b) => d.push(Uint8Array.from([b])));
    expect(out.filter((e) => e.kind === 'packet')).toHaveLength(2);
  });

  it('reports a bad checksum and still finds the next packet', () => {
    const bad = Uint8Array.from(state);
    bad[bad.length - 2] = (bad[bad.length - 2]! + 1) & 0xff;
    const out = new ImprovDecoder().push(Buffer.concat([bad, state]));
    expect(out[0]?.kind).toBe('bad_checksum');
    expect(out.filter((e) => e.kind === 'packet')).toHaveLength(1);
  });

  it('reports a wrong version', () => {
    const v2 = Uint8Array.from(state);
    v2[6] = 2;
    expect(new ImprovDecoder().push(v2)[0]).toEqual({ kind: 'bad_version', version: 2 });
  });

  it('does not wait forever on a corrupted length byte', () => {
    const longLen = Uint8Array.from(state);
    longLen[8] = 200;
    const out = new ImprovDecoder().push(Buffer.concat([longLen, state]));
    expect(out[0]?.kind).toBe('truncated');
    expect(out.filter((e) => e.kind === 'packet')).toHaveLength(1);
  });
});

describe('RPC result parsing', () => {
  it('parses multiple strings and rejects malformed ones', () => {
    const p = encodeImprovRpcResult(3, ['ESPHome', '2024.11.0', 'ESP32', 'kitchen']);
    const data = p.subarray(9, 9 + (p[8] ?? 0));
    expect(parseImprovRpcResult(data)?.strings).toEqual([
      'ESPHome',
      '2024.11.0',
      'ESP32',
      'kitchen',
    ]);
    expect(parseImprovRpcResult(Uint8Array.from([3, 10, 5, 65]))).toBeNull();
    expect(parseImprovRpcResult(Uint8Array.from([3]))).toBeNull();
    expect(parseImprovRpcResult(Uint8Array.from([1, 0]))).toEqual({ command: 1, strings: [] });
  });

  it('names error states', () => {
    expect(improvErrorText(3)).toMatch(/could not connect/);
    expect(improvErrorText(0x42)).toMatch(/unknown error 0x42/);
  });
});
