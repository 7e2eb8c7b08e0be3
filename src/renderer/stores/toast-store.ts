/**
 * Toasts: short messages in a corner, errors with their catalog code (PROTOCOL.md 4) so a user can
 * report "4091" instead of "it failed". The component dismisses them after a while; the store only
 * keeps the newest few.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { toApiError } from '../api/api-error';

export interface Toast {
  id: number;
  kind: 'error' | 'info' | 'success';
  message: string;
  /** Catalog code for errors (0 = hub not reachable). */
  code?: number;
}

export interface ToastState {
  toasts: Toast[];
  push(toast: Omit<Toast, 'id'>): number;
  /** Shows a failed call: `context` says what was attempted ("Delete device"). */
  pushError(error: unknown, context: string): number;
  dismiss(id: number): void;
}

export const MAX_TOASTS = 5;

export type ToastStore = StoreApi<ToastState>;

export function createToastStore(): ToastStore {
  let next = 1;
  return createStore<ToastState>()((set, get) => ({
    toasts: [],
    push(toast) {
      const id = next++;
      set({ toasts: [...get().toasts, { ...toast, id }].slice(-MAX_TOASTS) });
      return id;
    },
    pushError(error, context) {
      const e = toApiError(error);
      return get().push({ kind: 'error', code: e.code, message: `${context}: ${e.message}` });
    },
    dismiss(id) {
      set({ toasts: get().toasts.filter((t) => t.id !== id) });
    },
  }));
}
