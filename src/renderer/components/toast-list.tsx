/** Toasts in the corner; errors show their catalog code. Each dismisses itself after a while. */
import { useEffect, type ReactNode } from 'react';
import type { Toast } from '../stores/toast-store';

export const TOAST_MS = { error: 10_000, info: 5000, success: 4000 };

function ToastItem({ toast, onDismiss }: { toast: Toast; onDismiss(id: number): void }): ReactNode {
  useEffect(() => {
    const timer = setTimeout(() => onDismiss(toast.id), TOAST_MS[toast.kind]);
    return () => clearTimeout(timer);
  }, [toast.id, toast.kind, onDismiss]);
  return (
    <div
      className={`toast toast-${toast.kind}`}
      role={toast.kind === 'error' ? 'alert' : 'status'}
      data-testid="toast"
      data-code={toast.code}
    >
      {toast.code !== undefined && (
        <span className="toast-code">{toast.code === 0 ? 'network' : toast.code}</span>
      )}
      <span className="toast-message">{toast.message}</span>
      <button
        type="button"
        className="btn btn-icon btn-ghost"
        aria-label="Dismiss"
        onClick={() => onDismiss(toast.id)}
      >
        ×
      </button>
    </div>
  );
}

export function ToastList({
  toasts,
  onDismiss,
}: {
  toasts: Toast[];
  onDismiss(id: number): void;
}): ReactNode {
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <ToastItem key={t.id} toast={t} onDismiss={onDismiss} />
      ))}
    </div>
  );
}
