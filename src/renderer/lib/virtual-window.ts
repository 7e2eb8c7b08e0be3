/**
 * Which rows of a fixed-row-height list to render (DESIGN.md example 7: lists that can hold
 * thousands of devices are virtualized). Pure: the component feeds it scroll position and viewport
 * height and renders only `start..end` (exclusive), offset by `offsetTop`.
 */
export interface VirtualWindow {
  start: number;
  end: number;
  /** Pixel offset of row `start` from the top of the scrolled content. */
  offsetTop: number;
  /** Height of all rows together: the scroll content's height. */
  totalHeight: number;
}

export function virtualWindow(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  count: number,
  overscan = 6,
): VirtualWindow {
  const total = Math.max(0, count) * rowHeight;
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0, offsetTop: 0, totalHeight: 0 };
  const maxTop = Math.max(0, total - Math.max(0, viewportHeight));
  const top = Math.min(Math.max(0, scrollTop), maxTop);
  const first = Math.floor(top / rowHeight);
  const visible = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + visible + overscan);
  return { start, end, offsetTop: start * rowHeight, totalHeight: total };
}

/**
 * The scrollTop that brings row `index` fully into view with the least movement, or null when it
 * already is (keyboard navigation through rows that may not be rendered yet).
 */
export function scrollTopToReveal(
  index: number,
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
): number | null {
  const rowTop = index * rowHeight;
  const rowBottom = rowTop + rowHeight;
  if (rowTop < scrollTop) return rowTop;
  if (rowBottom > scrollTop + viewportHeight) return Math.max(0, rowBottom - viewportHeight);
  return null;
}

/** The index reached by a navigation key from `current` (roving focus through a long list). */
export function nextIndex(
  key: string,
  current: number,
  count: number,
  pageRows: number,
): number | null {
  if (count <= 0) return null;
  const clamp = (i: number): number => Math.min(count - 1, Math.max(0, i));
  switch (key) {
    case 'ArrowDown':
      return clamp(current + 1);
    case 'ArrowUp':
      return clamp(current - 1);
    case 'PageDown':
      return clamp(current + Math.max(1, pageRows));
    case 'PageUp':
      return clamp(current - Math.max(1, pageRows));
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}
