/**
 * Methods a device may send (PROTOCOL.md 2, table "Methods a device sends"). The `rpc.out.<X>`
 * notification is published by the session for every method before its handler runs; methods not
 * in this table get only that notification (and -32601 when they carry an id).
 */
import type { Json } from '../../shared/types';
import { HubError } from '../../shared/errors';
import type { DeviceSession } from './device-session';
import type { DeviceService } from '../devices/device-service';
import type { AccountDb } from '../store/account-db';
import { reservedKeyWritten } from '../shadow/reserved-keys';
import type { DeviceData } from '../data/device-data';
import { createHttpRequestMethod, type HttpRequestMethodDeps } from '../data/http-request-method';

/** Returned by a handler that must not be answered even when the frame had an id. */
export const NO_REPLY = Symbol('no-reply');

export type DeviceMethod = (
  session: DeviceSession,
  params: Json | undefined,
  hasId: boolean,
) => Promise<Json | typeof NO_REPLY>;

export type DeviceMethodTable = Map<string, DeviceMethod>;

/**
 * The handler of methods whose only action is the `rpc.out.<X>` notification the session already
 * published: a request gets `true`, a notification nothing at all. The session skips it for
 * notifications (`isAckOnly`), so a frame of them costs no promise and no microtasks: the Arduino
 * library sends a `State.Set` with every `OTA.Write`, read before its reply (PROTOCOL.md 6).
 */
const acknowledge: DeviceMethod = async () => true;

export const isAckOnly = (handler: DeviceMethod): boolean => handler === acknowledge;

export interface DeviceMethodDeps {
  devices: DeviceService;
  account: AccountDb;
  /** DB.Store / DB.Save quotas / DB.NewData (PROTOCOL.md 5); without it DB.Store answers 501. */
  data?: DeviceData;
  /** HTTP.Request (PROTOCOL.md 2); without it the method answers 501. */
  http?: HttpRequestMethodDeps;
}

export function createDeviceMethods(deps: DeviceMethodDeps): DeviceMethodTable {
  const { devices, account } = deps;
  const table: DeviceMethodTable = new Map();

  const shadowUpdate: DeviceMethod = async (s, params) => {
    // A device may report its own `ota`, never `online`: that is the hub's view of the session
    // (PROTOCOL.md 3 reserved keys, issue 7 item 16).
    const reserved = reservedKeyWritten(params, ['online']);
    if (reserved !== null) {
      throw new HubError('validation_failed', `${reserved} is owned by the hub`);
    }
    await devices.updateShadow(s.deviceId, params);
    return true;
  };
  table.set('Dash.Shadow.Update', shadowUpdate);
  table.set('Shadow.Update', shadowUpdate);

  // Shadow.Get: answer by calling the device's own Shadow.Get with the whole shadow.
  table.set('Shadow.Get', async (s) => {
    const shadow = devices.shadowOf(s.deviceId);
    s.call('Shadow.Get', shadow as unknown as Json).catch(() => undefined);
    return shadow as unknown as Json;
  });
  table.set('Dash.Shadow.Get', async (s) => devices.shadowOf(s.deviceId) as unknown as Json);
  table.set('Dash.Heartbeat', acknowledge);
  // The console line itself travels as the rpc.out.Log notification.
  table.set('Log', acknowledge);

  table.set('DB.Save', async (s, params, hasId) => {
    if (deps.data) return deps.data.save(s.deviceId, params, hasId);
    await account.insertData(s.deviceId, 'data', JSON.stringify(params ?? null));
    return true;
  });

  // The data features (ACL queries, spool drain, outbound HTTP) arrive with the data issue.
  for (const m of ['DB.Store', 'DB.NewData', 'HTTP.Request']) {
    table.set(m, async () => {
      throw new HubError('not_implemented', `${m} is not yet supported by this hub`);
    });
  }

  // The device side of data storage (src/main/data/device-data.ts) replaces the 501 placeholders.
  const data = deps.data;
  if (data) {
    table.set('DB.Store', (s, params, hasId) => data.store(s.deviceId, params, hasId));
    // Answered at once (`true`); the drain runs on, one at a time per device (PROTOCOL.md 5).
    table.set('DB.NewData', async (s) => {
      void data.drain(s);
      return true;
    });
  }

  // Replaces the 501 placeholder above when the hub wires it (http-request-method.ts).
  if (deps.http) {
    const httpRequest = createHttpRequestMethod(deps.http);
    table.set(
      'HTTP.Request',
      async (s, params) => (await httpRequest(s, params)) as unknown as Json,
    );
  }

  // OTA progress of the Arduino library, `{"ota":{"percent":n|null}}` (PROTOCOL.md 6): the OTA
  // manager feeds the device's running job from its rpc.out.State.Set notification (subscribed
  // per device while the job sends, ota-manager.ts), so nothing more happens here.
  table.set('State.Set', acknowledge);

  return table;
}
