/**
 * A QR code as a matrix of dark modules, made in the page by the qrcode-generator package: an
 * invite link is shown on a hub with no internet access, so nothing is fetched from a QR service.
 */
import qrcode from 'qrcode-generator';

/** The modules of `text` (byte mode, error correction M, the smallest version that fits). */
export function qrMatrix(text: string): boolean[][] {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  return Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => qr.isDark(r, c)));
}

/** One SVG path of the dark modules (a 1x1 square each), for a crisp code at any size. */
export function qrPath(matrix: readonly (readonly boolean[])[]): string {
  let d = '';
  matrix.forEach((row, r) =>
    row.forEach((dark, c) => {
      if (dark) d += `M${c} ${r}h1v1h-1z`;
    }),
  );
  return d;
}
