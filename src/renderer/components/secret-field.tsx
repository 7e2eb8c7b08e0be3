/**
 * A secret shown on demand: masked until "Reveal", with a Copy button that works while masked
 * (copying should not need the secret on screen, where screenshots and onlookers see it).
 */
import { useEffect, useState, type ReactNode } from 'react';

export interface SecretFieldProps {
  label: string;
  value: string;
  onCopy(text: string): Promise<boolean>;
  testId: string;
  hint?: ReactNode;
}

const MASK = '•'.repeat(24);

export function SecretField({ label, value, onCopy, testId, hint }: SecretFieldProps): ReactNode {
  const [shown, setShown] = useState(false);
  const [copy, setCopy] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (copy === 'idle') return;
    const timer = setTimeout(() => setCopy('idle'), 2000);
    return () => clearTimeout(timer);
  }, [copy]);
  const id = `secret-${testId}`;
  return (
    <div className="copy-field secret-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input
          id={id}
          className="input mono"
          readOnly
          value={shown ? value : MASK}
          aria-label={shown ? label : `${label} (hidden)`}
          data-testid={testId}
          data-revealed={String(shown)}
          onFocus={(e) => {
            if (shown) e.currentTarget.select();
          }}
        />
        <button
          type="button"
          className="btn"
          aria-pressed={shown}
          data-testid={`${testId}-reveal`}
          onClick={() => setShown(!shown)}
        >
          {shown ? 'Hide' : 'Reveal'}
        </button>
        <button
          type="button"
          className="btn"
          data-testid={`${testId}-copy`}
          onClick={() => {
            void onCopy(value).then((ok) => setCopy(ok ? 'copied' : 'failed'));
          }}
        >
          {copy === 'copied' ? 'Copied' : copy === 'failed' ? 'Copy failed' : 'Copy'}
        </button>
      </div>
      {hint && <p className="muted small">{hint}</p>}
    </div>
  );
}
