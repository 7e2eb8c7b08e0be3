/**
 * The link `/invite` returns (PROTOCOL.md 4): `<redir>?<customer token>`, the whole query string
 * being the token, on the hub named in `url`.
 *
 * How `redir` is read: a relative `redir` (`/a/myapp/`, `index.html`) is resolved against `url`,
 * like a link on that page; an absolute one keeps only its path, and the origin is always `url`'s.
 * So the link always opens on the hub the caller named, never on a third origin that `redir`
 * alone could slip in. Its own query and fragment are dropped: the query string IS the token.
 * Without `redir` the link opens the app `app_id` (the built-in app without one). Without `url`
 * the hub that answered is the origin.
 */
import { appPath, DEFAULT_APP_ID } from '../../shared/customer-app';

export interface InviteLinkInput {
  token: string;
  /** The hub's own origin, from the request (protocol + Host). */
  requestOrigin: string;
  url?: string | undefined;
  redir?: string | undefined;
  appId?: string | undefined;
}

/** The link, or null when `url` (or `redir`) is not an http(s) URL. */
export function inviteLink(input: InviteLinkInput): string | null {
  let base: URL;
  try {
    base = new URL(input.url !== undefined && input.url !== '' ? input.url : input.requestOrigin);
  } catch {
    return null;
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') return null;
  let path: string;
  if (input.redir !== undefined && input.redir !== '') {
    let target: URL;
    try {
      target = new URL(input.redir, base);
    } catch {
      return null;
    }
    // `javascript:` and other schemes have no path to keep.
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return null;
    path = target.pathname;
  } else {
    path = appPath(input.appId !== undefined && input.appId !== '' ? input.appId : DEFAULT_APP_ID);
  }
  return `${base.origin}${path}?${input.token}`;
}
