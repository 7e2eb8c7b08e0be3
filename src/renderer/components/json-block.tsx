import type { ReactNode } from 'react';
import type { Json } from '../../shared/types';
import { prettyJson } from '../lib/json-text';

/** Read-only pretty JSON. */
export function JsonBlock({
  value,
  testId,
  label,
}: {
  value: Json | undefined;
  testId?: string;
  label: string;
}): ReactNode {
  return (
    <pre className="json" data-testid={testId} aria-label={label} tabIndex={0}>
      {value === undefined ? '' : prettyJson(value)}
    </pre>
  );
}
