/**
 * Wire types shared by the hub and the dashboard (PROTOCOL.md 3, 4, 7). No Node, DOM or Electron
 * imports here: the renderer bundles this file.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** The device shadow document (PROTOCOL.md 3). */
export interface ShadowDoc {
  state: { desired: JsonObject; reported: JsonObject; delta: JsonObject };
  tags: JsonObject;
  version: number;
  /** Unix seconds of the last change. */
  timestamp: number;
}

/** The device ACL (PROTOCOL.md 4, 5); its rules are enforced by later issues. */
export interface DeviceAcl {
  public_key?: string;
  /** Regex or regexes, any match (PROTOCOL.md 8); stored as sent. */
  shadow_read?: string | string[];
  shadow_write?: string | string[];
  /** Comma-separated globs, or an array of globs. */
  rpc?: string | string[];
  data_read?: Record<string, string>;
  data_write?: Record<string, string>;
  [key: string]: Json | undefined;
}

/** The device object of the management API (PROTOCOL.md 4). */
export interface DeviceObject {
  id: string;
  name: string;
  token: string;
  online: boolean;
  shadow: ShadowDoc;
  acl: DeviceAcl;
  /** Unix seconds. */
  created: number;
  /** Unix seconds of the last frame or connect; 0 if never seen. */
  last_seen: number;
}

/** A notification frame (PROTOCOL.md 7). `id` is the device id, or '' for hub-wide events. */
export interface Notification {
  name: string;
  id: string;
  data: Json;
}

/** A stored notification as returned by POST /logs. */
export interface LogEntry extends Notification {
  seq: number;
  /** Unix milliseconds. */
  timestamp: number;
}

export interface KeyObject {
  id: string;
  created: number;
  last_used: number;
}
