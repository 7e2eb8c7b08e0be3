/**
 * `rpc.in.<method>` and `rpc.out.<method>` (PROTOCOL.md 7), made once per method rather than once
 * per call: a new string per REST RPC was garbage that the notification log's buffer keeps for up
 * to 100 ms, long enough to be copied by the young-generation GC and often promoted (issue 11).
 * Methods come from callers and devices, so each table is bounded: past `MAX_NAMES` it starts
 * over rather than growing, and a method longer than `MAX_CACHED_CHARS` (a device may send up to a
 * whole frame of it) gets its name made each time instead of kept.
 */
const MAX_NAMES = 512;
const MAX_CACHED_CHARS = 128;

function namer(prefix: string): (method: string) => string {
  const names = new Map<string, string>();
  return (method) => {
    if (method.length > MAX_CACHED_CHARS) return prefix + method;
    let name = names.get(method);
    if (name === undefined) {
      if (names.size >= MAX_NAMES) names.clear();
      name = prefix + method;
      names.set(method, name);
    }
    return name;
  };
}

/** The notification name of a call the hub sends to a device. */
export const rpcInName = namer('rpc.in.');
/** The notification name of a request or notification a device sends. */
export const rpcOutName = namer('rpc.out.');
