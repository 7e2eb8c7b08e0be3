import { describe, it, expect } from 'vitest';
import {
  ACK,
  BUSY,
  CMD,
  CodecError,
  NACK,
  addressFrame,
  commandFrame,
  eraseCommandOf,
  eraseGlobalPayload,
  erasePagesPayload,
  extendedErasePagesPayload,
  extendedEraseSpecialPayload,
  formatVersion,
  paddedLength,
  parseGetReply,
  parseIdReply,
  parseVersionReply,
  readLengthFrame,
  replyKind,
  writePayload,
  xorChecksum,
} from '../../../../src/main/flasher/stm32/an3155-codec';

const bytes = (u: Uint8Array): number[] => Array.from(u);

describe('AN3155 constants', () => {
  it('uses the reply bytes of AN3155 / stm32flash', () => {
    expect([ACK, NACK, BUSY]).toEqual([0x79, 0x1f, 0x76]);
    expect(replyKind(0x79)).toBe('ack');
    expect(replyKind(0x1f)).toBe('nack');
    expect(replyKind(0x76)).toBe('busy');
    expect(replyKind(0x00)).toBe('other');
  });
});

describe('command and address frames', () => {
  it('sends every command with its complement', () => {
    expect(bytes(commandFrame(CMD.GET))).toEqual([0x00, 0xff]);
    expect(bytes(commandFrame(CMD.WRITE_MEMORY))).toEqual([0x31, 0xce]);
    expect(bytes(commandFrame(CMD.EXTENDED_ERASE))).toEqual([0x44, 0xbb]);
  });

  it('rejects a command that is not a byte', () => {
    expect(() => commandFrame(256)).toThrow(CodecError);
    expect(() => commandFrame(-1)).toThrow(CodecError);
    expect(() => commandFrame(1.5)).toThrow(CodecError);
  });

  it('encodes addresses big-endian with an XOR checksum', () => {
    // 08 ^ 00 ^ 00 ^ 00 = 08
    expect(bytes(addressFrame(0x08000000))).toEqual([0x08, 0x00, 0x00, 0x00, 0x08]);
    // 08 ^ 00 ^ 4E ^ 20 = 66
    expect(bytes(addressFrame(0x08004e20))).toEqual([0x08, 0x00, 0x4e, 0x20, 0x66]);
    expect(bytes(addressFrame(0xffffffff))).toEqual([0xff, 0xff, 0xff, 0xff, 0x00]);
  });

  it('rejects addresses outside 32 bits', () => {
    expect(() => addressFrame(-1)).toThrow(CodecError);
    expect(() => addressFrame(2 ** 32)).toThrow(CodecError);
  });

  it('encodes read lengths as L-1 and its complement', () => {
    expect(bytes(readLengthFrame(256))).toEqual([0xff, 0x00]);
    expect(bytes(readLengthFrame(1))).toEqual([0x00, 0xff]);
    expect(bytes(readLengthFrame(32))).toEqual([0x1f, 0xe0]);
    expect(() => readLengthFrame(0)).toThrow(CodecError);
    expect(() => readLengthFrame(257)).toThrow(CodecError);
  });
});

describe('write payloads', () => {
  it('sends N-1, the data and the XOR of both', () => {
    const p = writePayload(Uint8Array.of(1, 2, 3, 4));
    expect(bytes(p)).toEqual([3, 1, 2, 3, 4, 3 ^ 1 ^ 2 ^ 3 ^ 4]);
  });

  it('pads to whole words with 0xFF and checksums the padding too', () => {
    const p = writePayload(Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd, 0xee));
    expect(p.length).toBe(1 + 8 + 1);
    expect(bytes(p.subarray(0, 9))).toEqual([7, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0xff, 0xff]);
    expect(p[9]).toBe(xorChecksum(p.subarray(0, 9)));
    expect(paddedLength(5)).toBe(8);
    expect(paddedLength(256)).toBe(256);
  });

  it('takes a full 256-byte block and nothing larger or empty', () => {
    const full = writePayload(new Uint8Array(256).fill(0x5a));
    expect(full[0]).toBe(0xff);
    expect(full.length).toBe(258);
    expect(() => writePayload(new Uint8Array(257))).toThrow(CodecError);
    expect(() => writePayload(new Uint8Array(0))).toThrow(CodecError);
  });
});

describe('erase payloads', () => {
  it('global erase (0x43) is FF 00', () => {
    expect(bytes(eraseGlobalPayload())).toEqual([0xff, 0x00]);
  });

  it('page erase (0x43) lists one byte per page with a checksum', () => {
    expect(bytes(erasePagesPayload([0, 1, 2]))).toEqual([2, 0, 1, 2, 2 ^ 0 ^ 1 ^ 2]);
    expect(() => erasePagesPayload([])).toThrow(CodecError);
    expect(() => erasePagesPayload([256])).toThrow(CodecError);
    // N-1 = 0xFF would read as the global-erase code.
    expect(() => erasePagesPayload(new Array<number>(256).fill(0))).toThrow(CodecError);
    expect(erasePagesPayload(new Array<number>(255).fill(0))[0]).toBe(254);
  });

  it('extended erase (0x44) uses 2-byte counts and page numbers, MSB first', () => {
    const p = extendedErasePagesPayload([0, 1, 0x0102]);
    expect(bytes(p)).toEqual([
      0x00,
      0x02,
      0x00,
      0x00,
      0x00,
      0x01,
      0x01,
      0x02,
      0x02 ^ 0x01 ^ 0x01 ^ 0x02,
    ]);
    expect(p[p.length - 1]).toBe(xorChecksum(p.subarray(0, p.length - 1)));
  });

  it('extended erase takes at most 511 pages per command, like stm32flash', () => {
    expect(extendedErasePagesPayload(new Array<number>(511).fill(7)).length).toBe(2 + 1022 + 1);
    expect(() => extendedErasePagesPayload(new Array<number>(512).fill(7))).toThrow(CodecError);
    expect(() => extendedErasePagesPayload([0x10000])).toThrow(CodecError);
  });

  it('extended erase special codes carry their checksum', () => {
    expect(bytes(extendedEraseSpecialPayload('mass'))).toEqual([0xff, 0xff, 0x00]);
    expect(bytes(extendedEraseSpecialPayload('bank1'))).toEqual([0xff, 0xfe, 0x01]);
    expect(bytes(extendedEraseSpecialPayload('bank2'))).toEqual([0xff, 0xfd, 0x02]);
  });
});

describe('reply parsing', () => {
  it('parses the Get reply of an F103 (AN3155 example)', () => {
    const body = Uint8Array.of(
      0x22,
      0x00,
      0x01,
      0x02,
      0x11,
      0x21,
      0x31,
      0x43,
      0x63,
      0x73,
      0x82,
      0x92,
    );
    const r = parseGetReply(0x0b, body);
    expect(r.version).toBe(0x22);
    expect(r.commands).toHaveLength(11);
    expect(eraseCommandOf(r)).toBe(CMD.ERASE);
    expect(formatVersion(r.version)).toBe('2.2');
  });

  it('prefers Extended Erase when the bootloader lists it', () => {
    expect(eraseCommandOf({ version: 0x31, commands: [0x00, 0x44] })).toBe(CMD.EXTENDED_ERASE);
    expect(eraseCommandOf({ version: 0x31, commands: [0x00, 0x01] })).toBeNull();
  });

  it('rejects a Get reply whose length does not match its count', () => {
    expect(() => parseGetReply(3, Uint8Array.of(0x22, 0x00))).toThrow(CodecError);
  });

  it('parses Get Version and Get ID', () => {
    expect(parseVersionReply(Uint8Array.of(0x22, 0x00, 0x00))).toEqual({
      version: 0x22,
      option1: 0,
      option2: 0,
    });
    expect(() => parseVersionReply(Uint8Array.of(0x22))).toThrow(CodecError);
    expect(parseIdReply(1, Uint8Array.of(0x04, 0x10))).toBe(0x410);
    expect(parseIdReply(2, Uint8Array.of(0x04, 0x13, 0x99))).toBe(0x413);
    expect(() => parseIdReply(0, Uint8Array.of(0x04))).toThrow(CodecError);
  });
});
