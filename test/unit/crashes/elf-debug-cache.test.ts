import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ElfDebugCache,
  loadElfDebug,
  type ElfDebug,
} from '../../../src/main/crashes/elf-debug-cache';
import { buildElf32 } from '../../support/elf32-writer';

const empty: ElfDebug = { symbols: null, lines: null };

describe('ElfDebugCache', () => {
  it('loads each path once, keeps at most `capacity`, evicting the least recently used', async () => {
    const loaded: string[] = [];
    const cache = new ElfDebugCache(2, 1e9, (p) => {
      loaded.push(p);
      return Promise.resolve(empty);
    });
    await Promise.all([cache.get('a'), cache.get('a'), cache.get('b')]);
    await cache.get('a'); // a is now the most recent
    await cache.get('c'); // evicts b
    expect(cache.size).toBe(2);
    await cache.get('a');
    await cache.get('b');
    expect(loaded).toEqual(['a', 'b', 'c', 'b']);
  });

  it('forgets a failed load so the next crash tries again', async () => {
    let n = 0;
    const cache = new ElfDebugCache(2, 1e9, () =>
      ++n === 1 ? Promise.reject(new Error('EIO')) : Promise.resolve(empty),
    );
    await expect(cache.get('a')).rejects.toThrow('EIO');
    await expect(cache.get('a')).resolves.toBe(empty);
  });
});

describe('loadElfDebug', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-elf-'));

  it('reads symbols from a file and refuses one over the size limit', async () => {
    const path = join(dir, 'a.elf');
    const elf = buildElf32({ symbols: [{ name: 'app_main', value: 0x400d1000, size: 16 }] });
    writeFileSync(path, elf);
    const d = await loadElfDebug(path, elf.length);
    expect(d.symbols?.lookup(0x400d1004)).toEqual({ name: 'app_main', offset: 4 });
    expect(d.lines).toBeNull();
    await expect(loadElfDebug(path, elf.length - 1)).rejects.toThrow(/over the/);
  });

  it('gives no symbols (not an error) for a file that is not an ELF', async () => {
    const path = join(dir, 'junk.elf');
    writeFileSync(path, 'not an elf');
    expect(await loadElfDebug(path, 1e6)).toEqual({ symbols: null, lines: null });
  });
});
