/**
 * Customer web apps (issue 10, PROTOCOL.md 4): what `GET /api/v2/m` lists. Shared by the hub and
 * the dashboard's Apps page; no Node, DOM or Electron imports.
 */
export interface AppObject {
  /** Served at `/a/<app_id>/` (appPath in customer-app.ts). */
  app_id: string;
  /** Files the app holds. */
  files: number;
  /** Their total size in bytes (unpacked). */
  bytes: number;
  /** Unix seconds when it was uploaded (the built-in app: when this hub started). */
  created: number;
  /** True for the built-in app (DEFAULT_APP_ID), which cannot be deleted. */
  builtin: boolean;
}

/** App ids in URLs and on disk: never `.`-led, never a separator, so never a path trick. */
export const APP_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
