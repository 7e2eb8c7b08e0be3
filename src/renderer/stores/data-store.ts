/**
 * The Data page's SQL console (PROTOCOL.md 4 `/sql/exec`): the query being edited, the last
 * result or coded error, the history of past queries (localStorage), and the exports. A result
 * arriving after a newer run started is dropped, so the table always shows the last query run.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { toApiError } from '../api/api-error';
import type { DataApi } from '../api/data-api';
import { addToHistory, loadHistory, saveHistory, type HistoryStorage } from '../lib/query-history';
import { toCsv, toJsonText } from '../lib/sql-export';
import type { SqlResult } from '../lib/sql-result';
import type { ActionError } from './devices-store';

export const DEFAULT_QUERY = 'SELECT * FROM data ORDER BY timestamp DESC LIMIT 1000';

export interface DataState {
  query: string;
  running: boolean;
  result: SqlResult | null;
  /** The query that produced `result` (exports are named after the time it ran). */
  ranQuery: string | null;
  ms: number | null;
  /** Counts results shown: a new one starts the table at its top. */
  resultSeq: number;
  error: ActionError | null;
  history: string[];
  setQuery(query: string): void;
  run(): Promise<void>;
  exportCsv(): void;
  exportJson(): void;
  /** The whole database as a link (null before login). */
  dbUrl(): string | null;
}

export type DataStore = StoreApi<DataState>;

export interface DataDeps {
  api(): DataApi | null;
  storage: HistoryStorage | null;
  saveFile(blob: Blob, name: string): void;
  onUnauthorized(): void;
  now?(): number;
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace(/[:T]/g, '-');
}

export function createDataStore(deps: DataDeps): DataStore {
  const now = deps.now ?? Date.now;
  let runSeq = 0;
  return createStore<DataState>()((set, get) => ({
    query: DEFAULT_QUERY,
    running: false,
    result: null,
    ranQuery: null,
    ms: null,
    resultSeq: 0,
    error: null,
    history: loadHistory(deps.storage),

    setQuery: (query) => set({ query }),

    async run() {
      const api = deps.api();
      const query = get().query.trim();
      if (!api || query === '') return;
      const seq = ++runSeq;
      const history = addToHistory(get().history, query);
      saveHistory(deps.storage, history);
      const started = now();
      set({ running: true, error: null, history });
      try {
        const result = await api.exec(query);
        if (seq !== runSeq) return;
        set({
          running: false,
          result,
          ranQuery: query,
          ms: now() - started,
          resultSeq: get().resultSeq + 1,
        });
      } catch (e) {
        if (seq !== runSeq) return;
        const err = toApiError(e);
        if (err.status === 401) deps.onUnauthorized();
        set({ running: false, error: { code: err.code, message: err.message }, ms: null });
      }
    },

    exportCsv() {
      const r = get().result;
      if (!r) return;
      deps.saveFile(
        new Blob([toCsv(r)], { type: 'text/csv;charset=utf-8' }),
        `query-${stamp(now())}.csv`,
      );
    },

    exportJson() {
      const r = get().result;
      if (!r) return;
      deps.saveFile(
        new Blob([toJsonText(r)], { type: 'application/json' }),
        `query-${stamp(now())}.json`,
      );
    },

    dbUrl: () => deps.api()?.dbUrl() ?? null,
  }));
}
