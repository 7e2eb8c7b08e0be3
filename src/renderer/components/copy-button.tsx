/** A Copy button that says for two seconds whether the copy worked. */
import { useState, type ReactNode } from 'react';

export interface CopyButtonProps {
  text: string;
  onCopy(text: string): Promise<boolean>;
  className?: string;
  ariaLabel?: string;
  testId?: string | undefined;
}

export function CopyButton({
  text,
  onCopy,
  className = 'btn',
  ariaLabel,
  testId,
}: CopyButtonProps): ReactNode {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <button
      type="button"
      className={className}
      aria-label={ariaLabel}
      data-testid={testId}
      onClick={() => {
        void onCopy(text).then((ok) => {
          setState(ok ? 'copied' : 'failed');
          setTimeout(() => setState('idle'), 2000);
        });
      }}
    >
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Select & copy' : 'Copy'}
    </button>
  );
}
