/**
 * A fixed-row-height virtual list (DESIGN.md example 7): only the rows in view (plus a few) exist
 * in the DOM, so 10,000 devices cost the same as 30. Rows use roving focus: one row is in the tab
 * order, arrow keys / Page / Home / End move between rows (scrolling rows into existence first),
 * Enter and Delete are handed to the caller.
 */
import {
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  type KeyboardEvent,
  type ReactNode,
} from 'react';
import { nextIndex, scrollTopToReveal, virtualWindow } from '../lib/virtual-window';

export interface VirtualListProps<T> {
  items: readonly T[];
  rowHeight: number;
  overscan?: number;
  getKey(item: T): string;
  renderRow(item: T, index: number): ReactNode;
  /** Extra attributes for a row element (test ids, state). */
  rowProps?(item: T, index: number): Record<string, string | undefined>;
  onActivate?(item: T, index: number): void;
  onDeleteKey?(item: T, index: number): void;
  ariaLabel: string;
  /** Rows before the first item for aria-rowindex (a header row counts 1). */
  rowIndexOffset?: number;
  className?: string;
  testId?: string;
  empty?: ReactNode;
}

export function VirtualList<T>(props: VirtualListProps<T>): ReactNode {
  const { items, rowHeight } = props;
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(480);
  const [active, setActive] = useState(0);
  const focusPending = useRef(false);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setHeight(el.clientHeight);
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const win = virtualWindow(scrollTop, height, rowHeight, items.length, props.overscan ?? 6);
  const firstVisible = Math.min(Math.floor(scrollTop / rowHeight), Math.max(0, items.length - 1));
  const lastVisible = Math.floor((scrollTop + height - 1) / rowHeight);
  // The tab stop follows the viewport when the active row scrolled away (or the list shrank).
  const tabStop =
    active < items.length && active >= firstVisible && active <= lastVisible
      ? active
      : firstVisible;

  useEffect(() => {
    if (!focusPending.current) return;
    focusPending.current = false;
    const row = ref.current?.querySelector<HTMLElement>(`[data-row-index="${active}"]`);
    row?.focus({ preventScroll: true });
  });

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    const target = e.target as HTMLElement;
    const attr = target.getAttribute('data-row-index');
    if (attr === null) return; // keys inside a row's link or button keep their meaning
    const index = Number(attr);
    const item = items[index];
    if (item === undefined) return;
    if (e.key === 'Enter' && props.onActivate) {
      e.preventDefault();
      props.onActivate(item, index);
      return;
    }
    if ((e.key === 'Delete' || e.key === 'Backspace') && props.onDeleteKey) {
      e.preventDefault();
      props.onDeleteKey(item, index);
      return;
    }
    const next = nextIndex(
      e.key,
      index,
      items.length,
      Math.max(1, Math.floor(height / rowHeight) - 1),
    );
    if (next === null) return;
    e.preventDefault();
    const el = ref.current;
    if (el) {
      const top = scrollTopToReveal(next, el.scrollTop, el.clientHeight, rowHeight);
      if (top !== null) {
        el.scrollTop = top;
        setScrollTop(top);
      }
    }
    focusPending.current = true;
    setActive(next);
  };

  const rows: ReactNode[] = [];
  for (let i = win.start; i < win.end; i++) {
    const item = items[i];
    if (item === undefined) continue;
    rows.push(
      <div
        key={props.getKey(item)}
        role="row"
        aria-rowindex={i + 1 + (props.rowIndexOffset ?? 0)}
        tabIndex={i === tabStop ? 0 : -1}
        data-row-index={i}
        className="vlist-row"
        style={{ transform: `translateY(${i * rowHeight}px)`, height: rowHeight }}
        onFocus={(e) => {
          if (e.target === e.currentTarget) setActive(i);
        }}
        {...props.rowProps?.(item, i)}
      >
        {props.renderRow(item, i)}
      </div>,
    );
  }

  return (
    <div
      ref={ref}
      role="rowgroup"
      aria-label={props.ariaLabel}
      className={`vlist ${props.className ?? ''}`}
      data-testid={props.testId}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      onKeyDown={onKeyDown}
    >
      {items.length === 0 ? (
        props.empty
      ) : (
        <div className="vlist-content" style={{ height: win.totalHeight }}>
          {rows}
        </div>
      )}
    </div>
  );
}
