/**
 * The one error catalog (DESIGN.md example 6): every REST error, device error reply and CLI
 * failure names one of these codes. `docs/errors` in the README is checked against this list by
 * test/unit/error-catalog.test.ts so the two cannot drift.
 *
 * Numeric codes are what clients see in `{"error":{"code":..,"message":..}}` (PROTOCOL.md 4).
 * JSON-RPC codes (-32xxx) are used on the device socket (PROTOCOL.md 2).
 */
export const ERRORS = {
  bad_request: { code: 400, status: 400, message: 'bad request' },
  invalid_json: { code: 4001, status: 400, message: 'body is not valid JSON' },
  validation_failed: { code: 4002, status: 400, message: 'input does not match the schema' },
  multipart_invalid: { code: 4004, status: 400, message: 'multipart body is malformed' },
  json_too_deep: { code: 4005, status: 400, message: 'JSON nests deeper than allowed' },
  sql_error: { code: 4008, status: 400, message: 'the SQL statement failed' },
  acl_pattern_invalid: {
    code: 4007,
    status: 400,
    message: 'an ACL regex is invalid or needs backtracking (RE2 syntax only)',
  },
  sql_refused: {
    code: 4038,
    status: 403,
    message: 'this statement may not run through the SQL API',
  },
  data_query_not_found: {
    code: 4048,
    status: 404,
    message: 'the device ACL has no data_read query by this name',
  },
  sql_busy: { code: 4299, status: 429, message: 'too many SQL queries waiting; retry later' },
  sql_timeout: {
    code: 5048,
    status: 504,
    message: 'the query ran past its deadline and was stopped',
  },
  unauthorized: { code: 401, status: 401, message: 'missing or invalid API key' },
  forbidden: { code: 403, status: 403, message: 'not allowed' },
  reserved_key: { code: 4031, status: 403, message: 'this shadow key is owned by the hub' },
  not_found: { code: 404, status: 404, message: 'not found' },
  method_not_allowed: { code: 405, status: 405, message: 'method not allowed' },
  request_timeout: { code: 408, status: 408, message: 'request took too long to arrive' },
  device_not_found: { code: 4041, status: 404, message: 'no such device' },
  key_not_found: { code: 4042, status: 404, message: 'no such key' },
  job_not_found: { code: 4043, status: 404, message: 'no such job' },
  port_not_found: { code: 4044, status: 404, message: 'no such serial port' },
  firmware_not_found: { code: 4045, status: 404, message: 'no such firmware' },
  rollout_not_found: { code: 4046, status: 404, message: 'no such rollout' },
  customer_not_found: { code: 4047, status: 404, message: 'no such customer' },
  conflict: { code: 409, status: 409, message: 'conflict' },
  version_conflict: { code: 4091, status: 409, message: 'shadow version conflict' },
  device_exists: { code: 4092, status: 409, message: 'a device with this id already exists' },
  rollout_state: {
    code: 4098,
    status: 409,
    message: 'the rollout is not in a state that allows this',
  },
  port_busy: { code: 4093, status: 409, message: 'serial port is busy' },
  chip_mismatch: { code: 4094, status: 409, message: 'image does not fit the detected chip' },
  ota_in_progress: { code: 4095, status: 409, message: 'the device has an OTA update running' },
  platform_mismatch: {
    code: 4096,
    status: 409,
    message: 'the firmware is built for another platform than the device',
  },
  nothing_to_commit: { code: 4097, status: 409, message: 'the device has no image to commit' },
  customer_exists: {
    code: 4099,
    status: 409,
    message: 'a customer with this email already exists',
  },
  customer_limit: { code: 4039, status: 403, message: 'the hub has reached its customer limit' },
  too_large: { code: 413, status: 413, message: 'payload too large' },
  image_invalid: { code: 4003, status: 400, message: 'firmware image is not valid' },
  backup_invalid: {
    code: 4227,
    status: 422,
    message: 'the file is not a Fleetbench backup, or it is damaged: nothing was restored',
  },
  data_dir_in_use: {
    code: 4232,
    status: 423,
    message: 'a hub is running on this data dir: stop it first',
  },
  app_invalid: { code: 4006, status: 400, message: 'the zip is not a web app that can be served' },
  app_not_found: { code: 4040, status: 404, message: 'no such app' },
  app_builtin: { code: 4090, status: 409, message: 'the built-in app cannot be deleted' },
  apps_full: { code: 4137, status: 413, message: 'the hub holds its maximum number of apps' },
  image_too_large: { code: 4132, status: 413, message: 'image is larger than the flash' },
  shadow_too_large: { code: 4131, status: 413, message: 'shadow would exceed its size limit' },
  zip_bomb: { code: 4133, status: 413, message: 'archive inflates beyond its limit' },
  library_full: { code: 4134, status: 413, message: 'firmware library quota exceeded' },
  customer_meta_too_large: {
    code: 4135,
    status: 413,
    message: 'customer metadata (cconfig) exceeds its size limit',
  },
  rate_limited: {
    code: 4296,
    status: 429,
    message: 'too many requests from this address; retry later',
  },
  quota_exceeded: { code: 4291, status: 429, message: 'storage quota exceeded' },
  data_rows_quota: {
    code: 4295,
    status: 429,
    message: 'the device reached its rows quota in the account database',
  },
  data_query_unknown: {
    code: 4049,
    status: 404,
    message: 'the device ACL has no data_write query of that name',
  },
  data_write_failed: { code: 4009, status: 400, message: 'the data_write query failed' },
  account_db_full: {
    code: 5072,
    status: 507,
    message: 'the account database reached its size cap: nothing was stored',
  },
  too_many_uploads: { code: 4292, status: 429, message: 'too many uploads in flight for a key' },
  too_many_calls: { code: 4293, status: 429, message: 'too many calls waiting on this device' },
  duplicate_session: {
    code: 4294,
    status: 429,
    message: 'another live session uses this device password; retry later',
  },
  headers_too_large: { code: 431, status: 431, message: 'request headers are too large' },
  internal: { code: 500, status: 500, message: 'internal error' },
  not_implemented: { code: 501, status: 501, message: 'not yet supported' },
  serial_error: { code: 5001, status: 500, message: 'serial port error' },
  flash_failed: { code: 5002, status: 500, message: 'flashing failed' },
  address_in_use: { code: 5003, status: 500, message: 'the hub could not listen: port in use' },
  device_error: { code: 502, status: 502, message: 'device returned an error' },
  ota_rolled_back: {
    code: 5021,
    status: 502,
    message: 'the device came back on its previous firmware',
  },
  ota_unexpected_firmware: {
    code: 5022,
    status: 502,
    message: 'the device came back with another firmware than the one sent',
  },
  health_check_failed: {
    code: 5023,
    status: 502,
    message: 'the device did not stay healthy on the new firmware',
  },
  // `fleetbench import` (issue 12): what the source server did wrong, as the CLI reports it.
  import_source_unauthorized: {
    code: 4016,
    status: 401,
    message: 'import: the source server refused the key (401)',
  },
  import_source_unreachable: {
    code: 5025,
    status: 502,
    message: 'import: the source server cannot be reached',
  },
  import_source_incompatible: {
    code: 5026,
    status: 502,
    message: 'import: the source server does not answer like the mDash API',
  },
  device_offline: { code: 503, status: 503, message: 'device is offline' },
  ota_interrupted: {
    code: 5031,
    status: 503,
    message: 'the hub stopped while the update ran',
  },
  // LAN services (issue 12): a responder that cannot bind reports these; the hub keeps running.
  lan_port_denied: {
    code: 5033,
    status: 503,
    message: 'a LAN service may not bind its port: ports below 1024 need a capability',
  },
  lan_port_in_use: {
    code: 5034,
    status: 503,
    message: 'a LAN service could not bind its port: another program uses it',
  },
  lan_bind_failed: {
    code: 5035,
    status: 503,
    message: 'a LAN service could not bind its port',
  },
  hub_stopping: {
    code: 5032,
    status: 503,
    message: 'the hub is stopping: connect again in a moment',
  },
  device_timeout: { code: 504, status: 504, message: 'device did not answer in time' },
  // HTTP.Request, the outbound request a device asks the hub to make (PROTOCOL.md 2).
  http_destination_forbidden: {
    code: 4036,
    status: 403,
    message: 'HTTP.Request: this destination is not allowed',
  },
  http_disabled: { code: 4037, status: 403, message: 'HTTP.Request is disabled on this hub' },
  http_rate_limited: {
    code: 4297,
    status: 429,
    message: 'HTTP.Request: this device is over its request rate',
  },
  http_busy: { code: 4298, status: 429, message: 'HTTP.Request: too many requests in flight' },
  http_response_too_large: {
    code: 5027,
    status: 502,
    message: 'HTTP.Request: the response is larger than allowed',
  },
  http_upstream_failed: { code: 5028, status: 502, message: 'HTTP.Request: the request failed' },
  http_timeout: { code: 5047, status: 504, message: 'HTTP.Request: no complete answer in time' },
  ota_timeout: {
    code: 5041,
    status: 504,
    message: 'the device did not come back after the update in time',
  },
  storage_full: { code: 507, status: 507, message: 'the disk is full: nothing was stored' },
  storage_failed: {
    code: 5071,
    status: 507,
    message: 'the disk failed a write: the store accepts no more changes until restarted',
  },
} as const;

export type ErrorName = keyof typeof ERRORS;

export interface ErrorBody {
  error: { code: number; message: string };
}

/** An error that carries a catalog entry; routes throw it and the error handler renders it. */
export class HubError extends Error {
  override readonly name = 'HubError';
  constructor(
    readonly kind: ErrorName,
    message?: string,
    readonly details?: unknown,
  ) {
    super(message ?? ERRORS[kind].message);
  }
  get status(): number {
    return ERRORS[this.kind].status;
  }
  get code(): number {
    return ERRORS[this.kind].code;
  }
  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/** JSON-RPC error codes used on device sockets (PROTOCOL.md 2). */
export const RPC_ERRORS = {
  parse_error: -32700,
  invalid_request: -32600,
  method_not_found: -32601,
  invalid_params: -32602,
  internal: -32603,
  version_conflict: 409,
  too_large: 413,
  not_supported: 501,
} as const;
