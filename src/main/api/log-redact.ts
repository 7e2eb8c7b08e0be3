/**
 * What the request log may say about a request. Keys travel in `?access_token=` (PROTOCOL.md 4:
 * the dashboard's database download link, notify sockets, customer apps), and Fastify logs the URL
 * of every request at `info`: a master key must not end up in a terminal or a log file.
 */
const SECRET_PARAMS = ['access_token', 'token', 'key', 'password'];

/** `url` (path and query) with the values of secret query parameters replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  let changed = false;
  for (const name of SECRET_PARAMS) {
    if (params.has(name)) {
      params.set(name, 'REDACTED');
      changed = true;
    }
  }
  return changed ? `${url.slice(0, q)}?${params.toString()}` : url;
}

interface LoggedRequest {
  method: string;
  url: string;
  ip?: string;
  socket?: { remotePort?: number } | null;
}

/** Fastify's request serializer, with the URL redacted. */
export function requestLogFields(req: LoggedRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: redactUrl(req.url),
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}
