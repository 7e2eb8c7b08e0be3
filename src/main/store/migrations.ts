/**
 * Numbered migrations of the registry database. Append only: a shipped migration never changes,
 * because user databases record which numbers they already ran (PRAGMA user_version).
 */
export const REGISTRY_MIGRATIONS: readonly string[] = [
  // 1: devices, API keys, stored notifications (PROTOCOL.md 4, 7).
  `CREATE TABLE devices (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     token TEXT NOT NULL,
     token_hash BLOB NOT NULL UNIQUE,
     acl TEXT NOT NULL DEFAULT '{}',
     shadow TEXT NOT NULL,
     created INTEGER NOT NULL,
     last_seen INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     key_hash BLOB NOT NULL UNIQUE,
     created INTEGER NOT NULL,
     last_used INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE notifications (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     ts INTEGER NOT NULL,
     name TEXT NOT NULL,
     device_id TEXT NOT NULL,
     data TEXT NOT NULL
   );
   CREATE INDEX notifications_ts ON notifications(ts);
   CREATE INDEX notifications_device ON notifications(device_id, seq);`,
];

/** The account database's default schema (PROTOCOL.md 5). */
export const ACCOUNT_MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS data (
     timestamp TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
     device_id TEXT NOT NULL,
     topic TEXT NOT NULL,
     message TEXT NOT NULL
   );
   CREATE INDEX IF NOT EXISTS data1 ON data(timestamp);
   CREATE INDEX IF NOT EXISTS data2 ON data(device_id);
   CREATE INDEX IF NOT EXISTS data3 ON data(device_id, timestamp);`,
];
