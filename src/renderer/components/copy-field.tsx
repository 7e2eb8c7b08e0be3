/** A read-only value with a Copy button that says whether the copy worked. */
import type { ReactNode } from 'react';
import { CopyButton } from './copy-button';

export interface CopyFieldProps {
  label: string;
  value: string;
  onCopy(text: string): Promise<boolean>;
  testId?: string;
  secret?: boolean;
}

export function CopyField({ label, value, onCopy, testId, secret }: CopyFieldProps): ReactNode {
  const id = `copy-${testId ?? label.replace(/\W+/g, '-')}`;
  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input
          id={id}
          className={`input mono ${secret ? 'secret' : ''}`}
          readOnly
          value={value}
          data-testid={testId}
          onFocus={(e) => e.currentTarget.select()}
        />
        <CopyButton text={value} onCopy={onCopy} testId={testId ? `${testId}-copy` : undefined} />
      </div>
    </div>
  );
}
