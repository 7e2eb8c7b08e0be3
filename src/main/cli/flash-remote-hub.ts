/**
 * Provisioning from the CLI, which runs without a hub of its own: the device is created in a hub
 * reached over its REST API (PROTOCOL.md 4: POST /api/v2/devices with the master key), the device
 * URL comes from GET /api/v2/hub, and "online" is polled from GET /api/v2/devices/:id.
 */
import Type from 'typebox';
import { isValid } from '../validate';
import type { HubProvisioning } from '../flasher/provision/provision-flow';
import type { ProvisioningFactory } from '../flasher/jobs/job-manager';
import { CliError } from './cli-errors';

const HubInfo = Type.Object({ device_url: Type.String({ minLength: 1 }) });
const Device = Type.Object({ id: Type.String(), token: Type.String(), online: Type.Boolean() });

export const ONLINE_POLL_MS = 500;

async function call(
  base: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(new URL(path, base), {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new CliError(`cannot reach the hub at ${base}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // not JSON
  }
  if (!res.ok) {
    const msg = (value as { error?: { message?: string } }).error?.message ?? text.slice(0, 200);
    throw new CliError(`hub answered ${res.status} to ${method} ${path}: ${msg}`);
  }
  return value;
}

/** Checks the hub and the key once, then returns the factory the job manager uses. */
export async function remoteHubProvisioning(
  hubUrl: string,
  apiKey: string,
): Promise<ProvisioningFactory> {
  let base: string;
  try {
    base = new URL(hubUrl).toString();
  } catch {
    throw new CliError(`--hub: '${hubUrl}' is not a URL (e.g. http://192.168.1.10:8009)`, 2);
  }
  const info = await call(base, apiKey, 'GET', '/api/v2/hub');
  if (!isValid(HubInfo, info)) throw new CliError(`${base} does not look like a Fleetbench hub`);
  const deviceUrl = info.device_url;
  return (signal: AbortSignal): HubProvisioning => ({
    deviceUrl,
    async createDevice(name?: string) {
      const d = await call(
        base,
        apiKey,
        'POST',
        '/api/v2/devices',
        name !== undefined ? { name } : {},
      );
      if (!isValid(Device, d)) throw new Error('the hub returned an unexpected device object');
      return { id: d.id, token: d.token };
    },
    async waitOnline(id: string, timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (signal.aborted) return false;
        const d = await call(base, apiKey, 'GET', `/api/v2/devices/${encodeURIComponent(id)}`);
        if (isValid(Device, d) && d.online) return true;
        if (Date.now() >= deadline) return false;
        await new Promise((r) =>
          setTimeout(r, Math.min(ONLINE_POLL_MS, Math.max(0, deadline - Date.now()))),
        );
      }
    },
  });
}
