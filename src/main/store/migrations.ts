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
  // 2: the firmware library and what each device was given (issue 8; PROTOCOL.md 6, 9). Files live
  // content-addressed in <dataDir>/firmware/<sha256>; `fw_id` is learned from the first device
  // a firmware updates (PROTOCOL.md 6); installs keep what each device ran, for rollbacks.
  `CREATE TABLE firmware (
     id TEXT PRIMARY KEY,
     sha256 TEXT NOT NULL UNIQUE,
     name TEXT NOT NULL,
     version TEXT NOT NULL DEFAULT '',
     platform TEXT NOT NULL DEFAULT '',
     build_id TEXT NOT NULL DEFAULT '',
     format TEXT NOT NULL CHECK (format IN ('fw.zip', 'esp-app', 'bin')),
     size INTEGER NOT NULL,
     created INTEGER NOT NULL,
     notes TEXT NOT NULL DEFAULT '',
     file_name TEXT NOT NULL DEFAULT '',
     chip_id INTEGER,
     app_project TEXT,
     app_version TEXT,
     app_idf TEXT,
     app_date TEXT,
     app_time TEXT,
     app_elf_sha256 TEXT,
     elf_sha256 TEXT,
     elf_size INTEGER,
     fw_id TEXT
   );
   CREATE INDEX firmware_fw_id ON firmware(fw_id);
   CREATE INDEX firmware_app_elf ON firmware(app_elf_sha256);
   CREATE TABLE firmware_installs (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     device_id TEXT NOT NULL,
     firmware_id TEXT REFERENCES firmware(id) ON DELETE SET NULL,
     fw_id TEXT NOT NULL DEFAULT '',
     installed INTEGER NOT NULL
   );
   CREATE INDEX firmware_installs_device ON firmware_installs(device_id, seq);`,
  // 3: single-device OTA jobs (issue 8; PROTOCOL.md 9): the job object as JSON, with the columns
  // lists filter on; GET /ota survives a restart.
  `CREATE TABLE ota_jobs (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     device_id TEXT NOT NULL,
     rollout TEXT,
     state TEXT NOT NULL,
     created INTEGER NOT NULL,
     job TEXT NOT NULL
   );
   CREATE INDEX ota_jobs_device ON ota_jobs(device_id, seq);
   CREATE INDEX ota_jobs_state ON ota_jobs(state);`,
  // 4: staged fleet rollouts (issue 8; PROTOCOL.md 9) and their devices, so a restarted hub
  // resumes them; each row keeps its object as JSON beside the columns queries use.
  `CREATE TABLE rollouts (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     state TEXT NOT NULL,
     created INTEGER NOT NULL,
     rollout TEXT NOT NULL
   );
   CREATE INDEX rollouts_state ON rollouts(state);
   CREATE TABLE rollout_devices (
     rollout_id TEXT NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
     device_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     device TEXT NOT NULL,
     PRIMARY KEY (rollout_id, device_id)
   );`,
  // 5: customers (issue 10; PROTOCOL.md 4 customer API). The token is shown again (GET /customer
  // echoes it) so it is stored as is, looked up by its SHA-256 hash; the Basic-auth password only
  // as a salted scrypt hash (customers/password-hash.ts). pubkeys and cconfig are JSON text.
  `CREATE TABLE customers (
     id TEXT PRIMARY KEY,
     email TEXT NOT NULL UNIQUE,
     app_id TEXT NOT NULL DEFAULT '',
     token TEXT NOT NULL,
     token_hash BLOB NOT NULL UNIQUE,
     password_hash TEXT,
     pubkeys TEXT NOT NULL DEFAULT '{}',
     cconfig TEXT NOT NULL DEFAULT '{}',
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );`,
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
