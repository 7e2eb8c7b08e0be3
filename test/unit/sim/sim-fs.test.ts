import { describe, expect, it } from 'vitest';
import { SimFs, MAX_FILENAME_LENGTH } from '../../../src/main/sim/sim-fs';
import { RpcFault } from '../../../src/main/sim/rpc-fault';

function fault(fn: () => unknown): RpcFault {
  try {
    fn();
  } catch (e) {
    if (e instanceof RpcFault) return e;
    throw e;
  }
  throw new Error('expected an RpcFault');
}

describe('SimFs', () => {
  it('reads a file in chunks with a correct `left`', () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const fs = new SimFs({ 'a.bin': data });
    const parts: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const { data: chunk, left } = fs.readChunk('a.bin', offset, 300);
      parts.push(chunk);
      offset += chunk.length;
      expect(left).toBe(1000 - offset);
      if (left === 0) break;
    }
    expect(parts.map((p) => p.length)).toEqual([300, 300, 300, 100]);
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    expect(fs.readChunk('a.bin', 5000, 10)).toEqual({ data: Buffer.alloc(0), left: 0 });
  });

  it('puts, appends, lists, renames over an existing file and removes', () => {
    const fs = new SimFs();
    fs.write('x', Buffer.from('ab'));
    fs.write('x', Buffer.from('cd'), true);
    fs.write('y', Buffer.from('old'));
    expect(fs.read('x')?.toString()).toBe('abcd');
    expect(fs.listExt()).toEqual([
      { name: 'x', size: 4 },
      { name: 'y', size: 3 },
    ]);
    fs.rename('x', 'y');
    expect(fs.list()).toEqual(['y']);
    expect(fs.read('y')?.toString()).toBe('abcd');
    expect(fs.usedBytes).toBe(4);
    fs.remove('y');
    expect(fs.list()).toEqual([]);
    expect(fs.usedBytes).toBe(0);
  });

  it('answers a missing file with code -1 and changes nothing', () => {
    const fs = new SimFs({ keep: Buffer.from('1') });
    for (const f of [
      () => fs.readChunk('nope', 0, 1),
      () => fs.remove('nope'),
      () => fs.rename('nope', 'keep'),
    ]) {
      const e = fault(f);
      expect(e.code).toBe(-1);
      expect(e.message).toContain('file not found');
    }
    expect(fs.read('keep')?.toString()).toBe('1');
  });

  it('refuses bad names and writes past the capacity without changing the file', () => {
    const fs = new SimFs({}, { capacityBytes: 10 });
    expect(fault(() => fs.write('', Buffer.from('a'))).code).toBe(-1);
    expect(fault(() => fs.write('n'.repeat(MAX_FILENAME_LENGTH + 1), Buffer.from('a'))).code).toBe(
      -1,
    );
    fs.write('f', Buffer.from('12345678'));
    expect(fault(() => fs.write('f', Buffer.from('abc'), true)).message).toContain('no space');
    expect(fs.read('f')?.toString()).toBe('12345678');
    fs.write('f', Buffer.from('0123456789')); // replacing frees the old bytes first
    expect(fs.usedBytes).toBe(10);
  });
});
