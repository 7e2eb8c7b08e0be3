/** A QR code drawn as SVG in the page (lib/qr-matrix.ts), with a 4-module quiet zone. */
import { useMemo, type ReactNode } from 'react';
import { qrMatrix, qrPath } from '../lib/qr-matrix';

export function QrCode({
  text,
  size = 180,
  testId,
}: {
  text: string;
  size?: number;
  testId?: string;
}): ReactNode {
  const matrix = useMemo(() => qrMatrix(text), [text]);
  const n = matrix.length;
  return (
    <svg
      width={size}
      height={size}
      viewBox={`-4 -4 ${n + 8} ${n + 8}`}
      role="img"
      aria-label="QR code of the link"
      data-testid={testId}
      data-modules={n}
      shapeRendering="crispEdges"
    >
      <rect x={-4} y={-4} width={n + 8} height={n + 8} fill="#fff" />
      <path d={qrPath(matrix)} fill="#000" />
    </svg>
  );
}
