/** A read-only value with a Copy button that says whether the copy worked. */
import { useState, type ReactNode } from 'react';

export interface CopyFieldProps {
  label: string;
  value: string;
  onCopy(text: string): Promise<boolean>;
  testId?: string;
  secret?: boolean;
}

export function CopyField({ label, value, onCopy, testId, secret }: CopyFieldProps): ReactNode {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
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
        <button
          type="button"
          className="btn"
          data-testid={testId ? `${testId}-copy` : undefined}
          onClick={() => {
            void onCopy(value).then((ok) => {
              setState(ok ? 'copied' : 'failed');
              setTimeout(() => setState('idle'), 2000);
            });
          }}
        >
          {state === 'copied' ? 'Copied' : state === 'failed' ? 'Select & copy' : 'Copy'}
        </button>
      </div>
    </div>
  );
}
