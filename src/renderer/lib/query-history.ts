/**
 * The SQL console's history of past queries, newest first, kept in localStorage so it survives a
 * reload. Pure list logic plus a storage edge that tolerates a missing or corrupt entry.
 */
export const HISTORY_MAX = 50;
export const HISTORY_KEY = 'fleetbench.sql-history';

/** `query` on top; an earlier copy of it moves up rather than repeating; at most `max` kept. */
export function addToHistory(list: readonly string[], query: string, max = HISTORY_MAX): string[] {
  const q = query.trim();
  if (q === '') return [...list];
  return [q, ...list.filter((x) => x !== q)].slice(0, max);
}

export interface HistoryStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export function loadHistory(storage: HistoryStorage | null): string[] {
  try {
    const raw = storage?.getItem(HISTORY_KEY);
    if (raw === null || raw === undefined) return [];
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v)
      ? v.filter((x): x is string => typeof x === 'string').slice(0, HISTORY_MAX)
      : [];
  } catch {
    return [];
  }
}

export function saveHistory(storage: HistoryStorage | null, list: readonly string[]): void {
  try {
    storage?.setItem(HISTORY_KEY, JSON.stringify(list));
  } catch {
    // Storage full or disabled (private mode): the history just lives for this page.
  }
}
