/**
 * How the files of a customer web app are served at `/a/<app_id>/...` (issue 10): the request
 * path turned into safe path segments, the content type by extension, the cache policy. Pure.
 */

/**
 * The path segments of the part of a request path after `/a/<app_id>/` (raw, still
 * percent-encoded, no query). Null for anything that could leave the app's folder or that the
 * file system would read differently than the URL says: `.` / `..` (also as `%2e%2e`), an encoded
 * `/` (`%2f`), backslashes, NUL and other control characters, empty segments (`a//b`), bad
 * percent-encoding. A trailing `/` adds `index.html`, as a web server does for a folder.
 */
export function appFileSegments(rest: string): string[] | null {
  const parts = rest === '' ? [''] : rest.split('/');
  const last = parts.length - 1;
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const raw = parts[i] ?? '';
    if (raw === '') {
      if (i !== last) return null;
      out.push('index.html');
      continue;
    }
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return null;
    }
    // eslint-disable-next-line no-control-regex
    if (seg === '.' || seg === '..' || /[/\\\x00-\x1f\x7f]/.test(seg) || seg.length > 255) {
      return null;
    }
    out.push(seg);
  }
  return out;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json; charset=utf-8',
  map: 'application/json; charset=utf-8',
  webmanifest: 'application/manifest+json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/x-icon',
  bmp: 'image/bmp',
  wasm: 'application/wasm',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  mp4: 'video/mp4',
  webm: 'video/webm',
  pdf: 'application/pdf',
};

/** The content type by extension; unknown ones are bytes (with nosniff, never guessed). */
export function appContentType(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  const ext = dot < 0 ? '' : fileName.slice(dot + 1).toLowerCase();
  return TYPES[ext] ?? 'application/octet-stream';
}

/**
 * Pages, manifests and service workers are revalidated on every load (`no-cache` with an ETag:
 * a 304 when unchanged), so a new upload or a hub update shows at once; other assets of an
 * uploaded app may be cached for an hour (an app id never gets other files: a new upload is a
 * new id). The built-in app changes with the hub, so all of it is revalidated.
 */
export function appCacheControl(fileName: string, builtin: boolean): string {
  const lower = fileName.toLowerCase();
  const alwaysFresh =
    builtin ||
    /\.(html?|webmanifest)$/.test(lower) ||
    lower === 'sw.js' ||
    lower === 'service-worker.js' ||
    lower === 'manifest.json';
  return alwaysFresh ? 'no-cache' : 'public, max-age=3600';
}
