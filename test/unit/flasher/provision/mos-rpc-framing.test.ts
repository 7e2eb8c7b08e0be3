import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  MOS_HANDSHAKE,
  MosFrameDecoder,
  asMosResponse,
  crc32,
  encodeMosDeviceFrame,
  encodeMosFrame,
  mosRequest,
  type MosDecoded,
} from '../../../../src/main/flasher/provision/mos-rpc-framing';

const latin = (s: string) => Buffer.from(s, 'latin1');

function frameOf(json: string, crc?: string): Buffer {
  const c = crc ?? (zlibCrc32(Buffer.from(json)) >>> 0).toString(16).padStart(8, '0');
  return latin(`"""${json}${c}"""`);
}

function decodeAll(chunks: Buffer[]): MosDecoded[] {
  const d = new MosFrameDecoder();
  return chunks.flatMap((c) => d.push(c));
}

describe('crc32', () => {
  it('matches zlib (IEEE) on known and random data', () => {
    expect(crc32(latin('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const data = Buffer.alloc(1000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
    expect(crc32(data)).toBe(zlibCrc32(data) >>> 0);
  });
});

describe('encodeMosFrame', () => {
  it('writes \\n"""json crc"""\\n like mos', () => {
    const bytes = Buffer.from(encodeMosFrame(mosRequest(7, 'Sys.GetInfo')));
    const text = bytes.toString('latin1');
    const json = '{"id":7,"method":"Sys.GetInfo","src":"fleetbench"}';
    const crc = (zlibCrc32(Buffer.from(json)) >>> 0).toString(16).padStart(8, '0');
    expect(text).toBe(`\n"""${json}${crc}"""\n`);
  });

  it('has the mos handshake bytes', () => {
    expect(Buffer.from(MOS_HANDSHAKE).toString('latin1')).toBe('"""\x04"""\n\n');
  });

  it('round-trips through the decoder, including UTF-8 text', () => {
    const frame = { id: 1, result: { name: 'Küche ☕', n: [1, 2, 3] } };
    const out = decodeAll([
      Buffer.from(encodeMosDeviceFrame(frame)),
      Buffer.from(encodeMosFrame(frame)),
    ]);
    // The host frame's leading "\n" is a delimiter not followed by "{": console junk.
    expect(out.filter((e) => e.type !== 'junk')).toEqual([
      { type: 'frame', frame },
      { type: 'frame', frame },
    ]);
  });
});

describe('MosFrameDecoder', () => {
  it('separates boot log noise from frames', () => {
    const out = decodeAll([
      latin('ets Jun  8 2016 00:22:57\r\n\r\nI (29) boot: ESP-IDF\r\n'),
      frameOf('{"id":1,"result":true}'),
      latin('[Nov 22 00:00:01.000] mgos_main.c:42 uptime 1\r\n'),
    ]);
    const frames = out.filter((e) => e.type === 'frame');
    expect(frames).toEqual([{ type: 'frame', frame: { id: 1, result: true } }]);
    const junk = out
      .filter((e): e is { type: 'junk'; text: string } => e.type === 'junk')
      .map((e) => e.text)
      .join('');
    expect(junk).toContain('I (29) boot: ESP-IDF');
    expect(junk).toContain('uptime 1');
    expect(junk).not.toContain('result');
  });

  it('finds a frame glued to a partial log line', () => {
    const out = decodeAll([
      latin('I (4242) wifi:mode : sta'),
      frameOf('{"id":3,"result":{"saved":false}}'),
    ]);
    expect(out.find((e) => e.type === 'frame')).toEqual({
      type: 'frame',
      frame: { id: 3, result: { saved: false } },
    });
    expect(out[0]).toEqual({ type: 'junk', text: 'I (4242) wifi:mode : sta' });
  });

  it('reassembles frames split at every byte boundary', () => {
    const stream = Buffer.concat([
      latin('boot noise\r\n'),
      frameOf('{"id":1,"result":{"a":"b"}}'),
      latin('"""\x04"""'),
      frameOf('{"id":2,"error":{"code":404,"message":"No handler"}}'),
    ]);
    const out = decodeAll([...stream].map((b) => Buffer.from([b])));
    expect(out.filter((e) => e.type !== 'junk')).toEqual([
      { type: 'frame', frame: { id: 1, result: { a: 'b' } } },
      { type: 'ready' },
      { type: 'frame', frame: { id: 2, error: { code: 404, message: 'No handler' } } },
    ]);
  });

  it('reports the handshake reply', () => {
    expect(decodeAll([latin('"""\x04"""')])).toEqual([{ type: 'ready' }]);
  });

  it('drops a frame with a bad CRC and keeps going', () => {
    const out = decodeAll([
      frameOf('{"id":1,"result":1}', 'deadbeef'),
      frameOf('{"id":2,"result":2}'),
    ]);
    expect(out[0]?.type).toBe('corrupt');
    expect((out[0] as { reason: string }).reason).toMatch(/CRC mismatch/);
    expect(out[1]).toEqual({ type: 'frame', frame: { id: 2, result: 2 } });
  });

  it('accepts frames without metadata (old firmware) and rejects bad JSON', () => {
    expect(decodeAll([latin('"""{"id":1,"result":1}"""')])).toEqual([
      { type: 'frame', frame: { id: 1, result: 1 } },
    ]);
    expect(decodeAll([latin('"""{"id":1,,}"""')])[0]?.type).toBe('corrupt');
    expect(decodeAll([latin('"""{"id":1}zz"""')])[0]?.type).toBe('corrupt');
  });

  it('strips XON/XOFF flow-control bytes', () => {
    const f = frameOf('{"id":9,"result":null}');
    const withFc = Buffer.concat([latin('\x13'), f.subarray(0, 10), latin('\x11'), f.subarray(10)]);
    expect(decodeAll([withFc])).toEqual([{ type: 'frame', frame: { id: 9, result: null } }]);
  });

  it('drops an endless frame instead of buffering forever', () => {
    const d = new MosFrameDecoder(1024);
    const out = d.push(latin('"""{' + 'x'.repeat(2000)));
    expect(out.some((e) => e.type === 'corrupt')).toBe(true);
    expect(d.push(frameOf('{"id":1,"result":1}'))).toContainEqual({
      type: 'frame',
      frame: { id: 1, result: 1 },
    });
  });
});

describe('asMosResponse', () => {
  it('accepts responses and ignores requests and junk', () => {
    expect(asMosResponse({ id: 1, result: 5, src: 'esp32' })).toEqual({
      id: 1,
      result: 5,
      src: 'esp32',
    });
    expect(asMosResponse({ id: 1, error: { code: -1, message: 'x' } })?.error?.code).toBe(-1);
    expect(asMosResponse({ id: 1, method: 'Sys.Reboot' })).toBeNull();
    expect(asMosResponse({ result: 1 })).toBeNull();
    expect(asMosResponse('nope')).toBeNull();
    expect(asMosResponse({ id: 1, error: { code: 'x' } })).toBeNull();
  });
});
