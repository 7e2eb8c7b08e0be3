import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/renderer/api/api-error';
import type { DataApi } from '../../../src/renderer/api/data-api';
import { HISTORY_KEY } from '../../../src/renderer/lib/query-history';
import type { SqlResult } from '../../../src/renderer/lib/sql-result';
import { createDataStore } from '../../../src/renderer/stores/data-store';

function setup(exec: DataApi['exec']) {
  const m = new Map<string, string>();
  const storage = {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
  };
  const saved: { name: string; text: Promise<string> }[] = [];
  const api: DataApi = {
    exec,
    dataRead: () => Promise.reject(new Error('unused')),
    saveAcl: () => Promise.reject(new Error('unused')),
    dbUrl: () => 'http://hub/api/v2/sql/db?access_token=k',
  };
  let unauthorized = 0;
  const store = createDataStore({
    api: () => api,
    storage,
    saveFile: (blob, name) => saved.push({ name, text: blob.text() }),
    onUnauthorized: () => unauthorized++,
    now: () => Date.UTC(2026, 11, 5, 19, 0, 0),
  });
  return { store, m, saved, unauthorized: () => unauthorized };
}

const result = (rows: SqlResult['rows']): SqlResult => ({ columns: ['a'], rows, truncated: false });

describe('data-store', () => {
  it('runs the query, keeps it in the history (storage too) and exports what it showed', async () => {
    const { store, m, saved } = setup(async () => result([[1], ['x,y']]));
    store.getState().setQuery('  SELECT a FROM t ');
    await store.getState().run();
    expect(store.getState().result?.rows).toEqual([[1], ['x,y']]);
    expect(store.getState().history[0]).toBe('SELECT a FROM t');
    expect(JSON.parse(m.get(HISTORY_KEY) ?? '[]')).toEqual(['SELECT a FROM t']);
    store.getState().exportCsv();
    store.getState().exportJson();
    expect(saved.map((s) => s.name)).toEqual([
      'query-2026-12-05-19-00-00.csv',
      'query-2026-12-05-19-00-00.json',
    ]);
    expect(await saved[0]?.text).toBe('a\r\n1\r\n"x,y"\r\n');
    expect(JSON.parse((await saved[1]?.text) ?? '')).toEqual([{ a: 1 }, { a: 'x,y' }]);
    expect(store.getState().dbUrl()).toContain('/sql/db?access_token=');
  });

  it('shows the coded error and keeps the previous result; 401 logs out', async () => {
    let fail: ApiError | null = null;
    const { store, unauthorized } = setup(async () => {
      if (fail) throw fail;
      return result([[1]]);
    });
    await store.getState().run();
    fail = new ApiError(4008, 400, 'no such table: t');
    await store.getState().run();
    expect(store.getState().error).toEqual({ code: 4008, message: 'no such table: t' });
    expect(store.getState().running).toBe(false);
    fail = new ApiError(401, 401, 'bad key');
    await store.getState().run();
    expect(unauthorized()).toBe(1);
  });

  it('a slow answer to an older run never replaces the newer one', async () => {
    const pending: ((r: SqlResult) => void)[] = [];
    const { store } = setup(() => new Promise((resolve) => pending.push(resolve)));
    store.getState().setQuery('SELECT 1');
    const first = store.getState().run();
    store.getState().setQuery('SELECT 2');
    const second = store.getState().run();
    pending[1]?.(result([[2]]));
    await second;
    pending[0]?.(result([[1]]));
    await first;
    expect(store.getState().result?.rows).toEqual([[2]]);
    expect(store.getState().ranQuery).toBe('SELECT 2');
  });
});
