import { describe, expect, it } from 'vitest';
import {
  HISTORY_KEY,
  HISTORY_MAX,
  addToHistory,
  loadHistory,
  saveHistory,
} from '../../../src/renderer/lib/query-history';

function memoryStorage(initial: Record<string, string> = {}) {
  const m = new Map(Object.entries(initial));
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    m,
  };
}

describe('query-history', () => {
  it('puts the newest first, moves a repeated query up, ignores blanks, keeps at most the cap', () => {
    let h = addToHistory([], 'SELECT 1');
    h = addToHistory(h, 'SELECT 2');
    h = addToHistory(h, '  SELECT 1 ');
    h = addToHistory(h, '   ');
    expect(h).toEqual(['SELECT 1', 'SELECT 2']);
    let big: string[] = [];
    for (let i = 0; i < HISTORY_MAX + 5; i++) big = addToHistory(big, `SELECT ${i}`);
    expect(big).toHaveLength(HISTORY_MAX);
    expect(big[0]).toBe(`SELECT ${HISTORY_MAX + 4}`);
  });

  it('survives a reload through storage, and a corrupt or missing entry reads as empty', () => {
    const s = memoryStorage();
    saveHistory(s, ['SELECT 1']);
    expect(loadHistory(s)).toEqual(['SELECT 1']);
    expect(loadHistory(memoryStorage({ [HISTORY_KEY]: '{not json' }))).toEqual([]);
    expect(loadHistory(memoryStorage({ [HISTORY_KEY]: '[1,"a"]' }))).toEqual(['a']);
    expect(loadHistory(null)).toEqual([]);
    const full = {
      getItem: () => null,
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    expect(() => saveHistory(full, ['x'])).not.toThrow();
  });
});
