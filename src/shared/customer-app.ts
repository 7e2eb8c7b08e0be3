/**
 * The built-in customer web app (issue 10): served by every hub at `/a/<DEFAULT_APP_ID>/` with no
 * internet access. Invite and sign-up links for customers point at it unless an app of the user's
 * own is named. Its sign-in reads the customer token as the whole query string of the link
 * (PROTOCOL.md 4: `<redir>?<customer token>`).
 */
export const DEFAULT_APP_ID = 'default';

/** Where an app is served, relative to the hub's origin (always with the trailing slash). */
export const appPath = (appId: string): string => `/a/${encodeURIComponent(appId)}/`;

/** A sign-in link of the built-in app (or of `appId`) on the hub at `origin`. */
export function appSignInLink(origin: string, token: string, appId = DEFAULT_APP_ID): string {
  return `${origin.replace(/\/+$/, '')}${appPath(appId)}?${token}`;
}
