/**
 * The two-step delete of a table row (Firmware, Customers, Apps): "Delete…" asks, then "Delete"
 * or "Keep". Test ids: `<testId>-delete` and `<testId>-delete-confirm`.
 */
import type { ReactNode } from 'react';

export function ConfirmDelete(props: {
  testId: string;
  /** The question is open for this row. */
  confirming: boolean;
  /** This row is being deleted now. */
  deleting: boolean;
  /** Another delete runs: the first step waits. */
  disabled: boolean;
  onConfirm: (open: boolean) => void;
  onDelete: () => void;
}): ReactNode {
  if (!props.confirming) {
    return (
      <button
        type="button"
        className="btn btn-small btn-danger-ghost"
        disabled={props.disabled}
        onClick={() => props.onConfirm(true)}
        data-testid={`${props.testId}-delete`}
      >
        {props.deleting ? 'Deleting…' : 'Delete…'}
      </button>
    );
  }
  return (
    <>
      <button
        type="button"
        className="btn btn-small btn-danger"
        onClick={props.onDelete}
        data-testid={`${props.testId}-delete-confirm`}
      >
        Delete
      </button>
      <button type="button" className="btn btn-small" onClick={() => props.onConfirm(false)}>
        Keep
      </button>
    </>
  );
}
