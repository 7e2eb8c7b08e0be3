/**
 * The whole "after a successful flash" sequence (issue: "create the device in the hub (mint id and
 * password), then write its configuration over serial, then wait until it connects and show it
 * online"). The hub side (device registry, gateway presence) is not this module's: the integrator
 * passes it in as `HubProvisioning`, which keeps this file free of store and socket imports and
 * lets the job manager run it inside its port lease.
 *
 * Improv only carries Wi-Fi credentials, so the Improv family neither mints a device nor waits for
 * it online; its result carries the device's redirect URL instead.
 */
import Type from 'typebox';
import { FlashError } from '../../../shared/flash-state';
import { provisionImprov, type ImprovProvisionResult } from './improv-provision';
import { provisionMos, type MosProvisionResult } from './mos-provision';
import {
  PortBaudFields,
  WifiSchema,
  errText,
  parseOptions,
  step,
  type ProvisionReport,
} from './provision-common';
import { provisionTemplate, type TemplateProvisionResult } from './template-provision';

export interface HubProvisioning {
  /** Creates the device (PROTOCOL.md 4, POST /devices) and returns its id and password. */
  createDevice(name?: string): Promise<{ id: string; token: string }>;
  /** Resolves true once the device's socket is authenticated, false at the deadline. */
  waitOnline(deviceId: string, timeoutMs: number): Promise<boolean>;
  /** The URL devices connect to, e.g. ws://192.168.1.10:8009/api/v2/rpc (PROTOCOL.md 1). */
  deviceUrl: string;
}

export const ProvisionFlowSchema = Type.Object(
  {
    ...PortBaudFields,
    family: Type.Union([Type.Literal('mos'), Type.Literal('improv'), Type.Literal('template')]),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    wifi: Type.Optional(WifiSchema),
    /** For family 'template'. */
    template: Type.Optional(Type.String({ minLength: 1, maxLength: 8192 })),
    expect: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    expectLiteral: Type.Optional(Type.Boolean()),
    /** How long to wait for the device to come online; default 60 s. 0 skips the wait. */
    onlineTimeoutMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
  },
  { additionalProperties: false },
);
export type ProvisionFlowOptions = Type.Static<typeof ProvisionFlowSchema>;

export interface ProvisionFlowResult {
  deviceId?: string;
  online?: boolean;
  mos?: MosProvisionResult;
  improv?: ImprovProvisionResult;
  template?: TemplateProvisionResult;
}

/**
 * Runs the provisioning sequence. Reports `provisioning{step}` then `waiting_online{deviceId}`;
 * throws FlashError. The caller reports `done` (it knows the flash duration and chip).
 */
export async function runProvisioning(
  input: unknown,
  hub: HubProvisioning,
  report?: ProvisionReport,
): Promise<ProvisionFlowResult> {
  const opts = parseOptions(ProvisionFlowSchema, input);
  const port = { path: opts.path, ...(opts.baud !== undefined ? { baud: opts.baud } : {}) };

  if (opts.family === 'improv') {
    if (!opts.wifi)
      throw new FlashError('provision_failed', 'Improv provisioning needs wifi credentials');
    return { improv: await provisionImprov({ ...port, wifi: opts.wifi }, report) };
  }
  if (opts.family === 'template' && !opts.template) {
    throw new FlashError('provision_failed', 'template provisioning needs a template');
  }

  step(report, 'creating the device in the hub');
  let device: { id: string; token: string };
  try {
    device = await hub.createDevice(opts.name);
  } catch (err) {
    throw new FlashError('provision_failed', `could not create the device: ${errText(err)}`);
  }

  const result: ProvisionFlowResult = { deviceId: device.id };
  if (opts.family === 'mos') {
    result.mos = await provisionMos(
      {
        ...port,
        ...(opts.wifi ? { wifi: opts.wifi } : {}),
        dash: { token: device.token, server: hub.deviceUrl },
      },
      report,
    );
  } else {
    const vars: Record<string, string> = {
      id: device.id,
      password: device.token,
      server: hub.deviceUrl,
      name: opts.name ?? device.id,
    };
    if (opts.wifi) {
      vars.wifi_ssid = opts.wifi.ssid;
      vars.wifi_pass = opts.wifi.pass;
    }
    result.template = await provisionTemplate(
      {
        ...port,
        template: opts.template,
        vars,
        ...(opts.expect !== undefined ? { expect: opts.expect } : {}),
        ...(opts.expectLiteral !== undefined ? { expectLiteral: opts.expectLiteral } : {}),
      },
      report,
    );
  }

  const timeoutMs = opts.onlineTimeoutMs ?? 60_000;
  if (timeoutMs === 0) return result;
  try {
    report?.({ state: 'waiting_online', deviceId: device.id });
  } catch {
    // observer failures are not provisioning failures
  }
  let online: boolean;
  try {
    online = await hub.waitOnline(device.id, timeoutMs);
  } catch (err) {
    if (err instanceof FlashError) throw err; // cancelled
    throw new FlashError('provision_failed', `waiting for ${device.id}: ${errText(err)}`);
  }
  if (!online) {
    // A timeout is a timeout (issue 7 item 7), not a provisioning error and never a success.
    throw new FlashError(
      'timeout',
      `device ${device.id} did not come online within ${Math.round(timeoutMs / 1000)} s`,
      'The configuration was written. Check the Wi-Fi credentials and that the device can reach the hub URL ' +
        `${hub.deviceUrl}.`,
    );
  }
  result.online = true;
  return result;
}
