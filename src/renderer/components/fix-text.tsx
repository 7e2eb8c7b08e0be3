/**
 * A fix as the hub writes it (lib/fix-lines.ts): prose as paragraphs, each command on its own
 * line with a Copy button. Shared by the Network page's checks and the LAN services' problems.
 */
import type { ReactNode } from 'react';
import { fixLines } from '../lib/fix-lines';
import { CopyButton } from './copy-button';

export interface FixTextProps {
  fix: string;
  onCopy(text: string): Promise<boolean>;
  /** Test id of each command line; its Copy button gets `<id>-copy`. */
  commandTestId?: string;
}

export function FixText({ fix, onCopy, commandTestId }: FixTextProps): ReactNode {
  return fixLines(fix).map((l, i) =>
    l.kind === 'text' ? (
      <p key={i}>{l.text}</p>
    ) : (
      <div key={i} className="fix-command" data-testid={commandTestId}>
        <code className="mono">{l.text}</code>
        <CopyButton
          text={l.text}
          onCopy={onCopy}
          className="btn btn-small"
          ariaLabel={`Copy: ${l.text}`}
          testId={commandTestId && `${commandTestId}-copy`}
        />
      </div>
    ),
  );
}
