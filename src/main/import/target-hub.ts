/**
 * The local hub as the import's target, through its REST API and master key only: the running
 * hub keeps devices, keys and shadows in memory, so its SQLite files are never written behind
 * its back. Writes use the management API (PROTOCOL.md 4) plus two Fleetbench extensions
 * (PROTOCOL.md 9, master key): `POST /devices` with `token` and `POST /customers/:id` with
 * `token`, so passwords and customer keys survive the move.
 *
 * A hub that cannot be reached or refuses the key stops the import (TargetUnavailable); any other
 * refusal is a RestError the caller records against the one item.
 */
import Type from 'typebox';
import { NetworkError, RestError, restCall, type Endpoint } from './rest-client';
import {
  checkShape,
  SourceCustomerSchema,
  SourceDeviceSchema,
  SqlResultSchema,
  type SourceCustomer,
  type SourceDevice,
  type SqlAnswer,
} from './source-reader';
import type { CustomerBody, DevicePatch } from './import-plan';
import type { Cell } from './data-plan';

export class TargetUnavailable extends Error {
  override readonly name = 'TargetUnavailable';
}

export class TargetHub {
  constructor(
    readonly ep: Endpoint,
    private readonly timeoutMs: number,
  ) {}

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    try {
      return (await restCall(this.ep, method, path, body, this.timeoutMs)).json;
    } catch (err) {
      if (err instanceof NetworkError) {
        throw new TargetUnavailable(
          `cannot reach the local hub at ${this.ep.label}: ${err.message} (is it running? --hub)`,
        );
      }
      if (err instanceof RestError && err.status === 401) {
        throw new TargetUnavailable(
          `the local hub at ${this.ep.label} refused its key (--hub-key, FLEETBENCH_API_KEY or the data dir's master.key)`,
        );
      }
      throw err;
    }
  }

  /** The local device with this id, or undefined. */
  async device(id: string): Promise<SourceDevice | undefined> {
    try {
      const v = await this.call('GET', `/api/v2/devices/${encodeURIComponent(id)}`);
      return checkShape(SourceDeviceSchema, v, 'the local hub') as unknown as SourceDevice;
    } catch (err) {
      if (err instanceof RestError && err.status === 404) return undefined;
      throw err;
    }
  }

  async createDevice(d: { id: string; name: string; token: string }): Promise<void> {
    await this.call('POST', '/api/v2/devices', d);
  }

  async updateDevice(id: string, patch: DevicePatch): Promise<void> {
    await this.call('POST', `/api/v2/devices/${encodeURIComponent(id)}`, patch);
  }

  async deleteDevice(id: string): Promise<void> {
    await this.call('DELETE', `/api/v2/devices/${encodeURIComponent(id)}`);
  }

  async customers(): Promise<SourceCustomer[]> {
    const v = await this.call('GET', '/api/v2/customers');
    return checkShape(
      Type.Array(SourceCustomerSchema),
      v,
      'the local hub',
    ) as unknown as SourceCustomer[];
  }

  async putCustomer(id: string, body: CustomerBody): Promise<void> {
    await this.call('POST', `/api/v2/customers/${encodeURIComponent(id)}`, body);
  }

  async deleteCustomer(id: string): Promise<void> {
    await this.call('DELETE', `/api/v2/customers/${encodeURIComponent(id)}`);
  }

  async sql(query: string, params: readonly Cell[] = []): Promise<SqlAnswer> {
    const v = await this.call('POST', '/api/v2/sql/exec', {
      query,
      ...(params.length > 0 && { params }),
    });
    return checkShape(SqlResultSchema, v, 'the local hub');
  }
}
