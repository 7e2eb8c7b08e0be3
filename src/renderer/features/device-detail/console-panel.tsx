/** The device console: `rpc.out.Log` lines (PROTOCOL.md 2, `Log` method) as they arrive. */
import { useLayoutEffect, useRef, type ReactNode } from 'react';
import type { ConsoleLine } from '../../stores/device-detail-store';
import { frameText } from '../../lib/decoded-backtrace';

export function ConsolePanel({
  lines,
  onClear,
}: {
  lines: ConsoleLine[];
  onClear(): void;
}): ReactNode {
  const ref = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  useLayoutEffect(() => {
    const el = ref.current;
    // Follow new output only while the user is at the bottom; scrolling up to read stops it.
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <section className="card panel panel-console" aria-labelledby="console-title">
      <header className="panel-head">
        <h2 id="console-title">Console</h2>
        <span className="muted small">{lines.length} lines</span>
        <div className="toolbar-spacer" />
        <button
          type="button"
          className="btn btn-small"
          onClick={onClear}
          disabled={lines.length === 0}
        >
          Clear
        </button>
      </header>
      <div
        ref={ref}
        className="console"
        role="log"
        aria-label="Device console"
        tabIndex={0}
        data-testid="console"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {lines.length === 0 ? (
          <span className="muted">Waiting for log output…</span>
        ) : (
          lines.map((l) => (
            <div
              key={l.n}
              className={`console-line ${l.fd === 2 ? 'stderr' : ''}`}
              data-testid="console-line"
            >
              {l.text}
              {l.frames && l.frames.length > 0 && (
                // Decoded with the ELF of the firmware the device runs (`log.decoded`).
                <ol
                  className="console-frames"
                  data-testid="console-frames"
                  aria-label="Decoded backtrace"
                >
                  {l.frames.map((f, i) => (
                    <li key={i} className={f.function === null ? 'muted' : undefined}>
                      {frameText(f)}
                    </li>
                  ))}
                </ol>
              )}
            </div>
          ))
        )}
      </div>
    </section>
  );
}
