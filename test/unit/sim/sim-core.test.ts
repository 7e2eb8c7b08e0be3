import { zipSync, strToU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../src/main/sim/prng';
import { SimDeviceCore, type Handled, type SimCoreOptions } from '../../../src/main/sim/sim-core';
import { espAppImage, mosFwZip } from '../../../src/main/sim/sim-firmware-files';
import type { Json } from '../../../src/shared/types';

function makeCore(
  now = { t: 1_700_000_000_000 },
  extra: Partial<SimCoreOptions> = {},
): SimDeviceCore {
  return new SimDeviceCore({
    id: 'dev1',
    mac: '02AABBCCDDEE',
    publicKey: 'pk',
    firmware: { fwVersion: '1.0.0', fwId: 'v1', app: 'demo' },
    config: { debug: { level: 2 }, wifi: { sta: { ssid: 'lan' } } },
    state: { on: false },
    files: { 'hello.txt': Buffer.from('hello world') },
    prng: createPrng(1),
    now: () => now.t,
    ...extra,
  });
}

const result = (h: Handled): Json => {
  if ('error' in h.outcome) throw new Error(`unexpected error ${JSON.stringify(h.outcome.error)}`);
  return h.outcome.result;
};
const error = (h: Handled): { code: number; message: string } => {
  if (!('error' in h.outcome))
    throw new Error(`expected an error, got ${JSON.stringify(h.outcome.result)}`);
  return h.outcome.error;
};

describe('SimDeviceCore methods', () => {
  it('Sys.GetInfo has every field the hub stores, uptime counts from boot', () => {
    const clock = { t: 1_700_000_000_000 };
    const core = makeCore(clock);
    clock.t += 12_500;
    const info = result(core.handle('Sys.GetInfo', { utc_time: 1 })) as Record<string, Json>;
    expect(info).toMatchObject({
      id: 'dev1',
      fw_version: '1.0.0',
      arch: 'sim',
      fw_id: 'v1',
      app: 'demo',
      uptime: 12,
      reboot_reason: 'power-on',
      mac: '02AABBCCDDEE',
      public_key: 'pk',
    });
    expect(typeof info.ram_free).toBe('number');
  });

  it('unknown methods get -32601 and bad params get -32602, with no effects', () => {
    const core = makeCore();
    expect(error(core.handle('No.Such', {}))).toEqual({
      code: -32601,
      message: 'method not found',
    });
    const bad = core.handle('FS.Get', { filename: 5 });
    expect(error(bad).code).toBe(-32602);
    expect(error(bad).message).toContain('filename');
    expect(bad.effects).toEqual([]);
    expect(error(core.handle('FS.Put', { filename: 'a', data: '***' })).message).toContain(
      'base64',
    );
    expect(error(core.handle('Sys.Reboot', { delay_ms: -1 })).code).toBe(-32602);
    expect(core.fs.list()).toEqual(['hello.txt']);
  });

  it('RPC.List names every method; RPC.Describe gives args_fmt or 404', () => {
    const core = makeCore();
    const names = result(core.handle('RPC.List', null)) as string[];
    for (const m of [
      'Sys.GetInfo',
      'Sys.Reboot',
      'FS.Get',
      'FS.ListExt',
      'Shadow.Delta',
      'Config.Set',
      'OTA.GetBootState',
    ]) {
      expect(names).toContain(m);
    }
    expect(result(core.handle('RPC.Describe', { name: 'FS.Get' }))).toEqual({
      name: 'FS.Get',
      args_fmt: '{filename: %Q, offset: %ld, len: %ld}',
    });
    expect(result(core.handle('RPC.Describe', { name: 'FS.List' }))).toEqual({ name: 'FS.List' });
    expect(error(core.handle('RPC.Describe', { name: 'Nope' }))).toEqual({
      code: 404,
      message: 'name not found',
    });
  });

  it('FS.* work on the in-memory flash; missing files are -1 "file not found"', () => {
    const core = makeCore();
    expect(
      result(core.handle('FS.Put', { filename: 'a', data: Buffer.from('abc').toString('base64') })),
    ).toEqual({
      filename: 'a',
      written: 3,
    });
    core.handle('FS.Put', {
      filename: 'a',
      data: Buffer.from('def').toString('base64'),
      append: true,
    });
    expect(result(core.handle('FS.List', undefined))).toEqual(['hello.txt', 'a']);
    expect(result(core.handle('FS.ListExt', {}))).toEqual([
      { name: 'hello.txt', size: 11 },
      { name: 'a', size: 6 },
    ]);
    expect(result(core.handle('FS.Get', { filename: 'a', offset: 2, len: 3 }))).toEqual({
      filename: 'a',
      offset: 2,
      left: 1,
      data: Buffer.from('cde').toString('base64'),
    });
    expect(result(core.handle('FS.Rename', { src: 'a', dst: 'b' }))).toBe(true);
    expect(result(core.handle('FS.Remove', { filename: 'b' }))).toBe(true);
    for (const [m, p] of [
      ['FS.Get', { filename: 'b' }],
      ['FS.Remove', { filename: 'b' }],
      ['FS.Rename', { src: 'b', dst: 'c' }],
    ] as const) {
      const e = error(core.handle(m, p));
      expect(e.code).toBe(-1);
      expect(e.message).toContain('file not found');
    }
  });

  it('FS.Get defaults to 512-byte chunks and caps big requests at 4096', () => {
    const core = makeCore();
    core.fs.write('big', Buffer.alloc(10_000, 7));
    const first = result(core.handle('FS.Get', { filename: 'big' })) as {
      left: number;
      data: string;
    };
    expect(Buffer.from(first.data, 'base64')).toHaveLength(512);
    expect(first.left).toBe(10_000 - 512);
    const capped = result(core.handle('FS.Get', { filename: 'big', len: 1_000_000 })) as {
      left: number;
      data: string;
    };
    expect(Buffer.from(capped.data, 'base64')).toHaveLength(4096);
  });

  it('Shadow.Delta applies to local state and reports the applied values', () => {
    const core = makeCore();
    const h = core.handle('Shadow.Delta', {
      state: { on: true, color: { r: 1 } },
      version: 3,
      timestamp: 5,
    });
    expect(result(h)).toBe(true);
    expect(core.state).toEqual({ on: true, color: { r: 1 } });
    expect(h.effects).toEqual([
      {
        kind: 'notify',
        method: 'Dash.Shadow.Update',
        params: { state: { reported: { on: true, color: { r: 1 } } } },
      },
    ]);
    expect(error(core.handle('Shadow.Delta', { state: 'x' })).code).toBe(-32602);
    expect(core.handle('Shadow.Delta', { state: {} }).effects).toEqual([]);
  });

  it('Shadow.Get (the hub passing the whole shadow) applies its delta', () => {
    const core = makeCore();
    const h = core.handle('Shadow.Get', {
      state: { desired: { on: true }, reported: {}, delta: { on: true } },
    });
    expect(result(h)).toBe(true);
    expect(core.state.on).toBe(true);
    expect(h.effects).toHaveLength(1);
  });

  it('Config.Get/Set/Save: dotted keys, 404 for unknown keys, unsaved changes die at reboot', () => {
    const core = makeCore();
    expect(result(core.handle('Config.Get', { key: 'wifi.sta.ssid' }))).toBe('lan');
    expect(error(core.handle('Config.Get', { key: 'no.such' }))).toEqual({
      code: 404,
      message: 'invalid config key',
    });
    expect(result(core.handle('Config.Set', { config: { debug: { level: 3 } } }))).toEqual({
      saved: false,
    });
    expect(result(core.handle('Config.Set', { key: 'app.name', value: 'x' }))).toEqual({
      saved: false,
    });
    expect(result(core.handle('Config.Get', {}))).toMatchObject({
      debug: { level: 3 },
      app: { name: 'x' },
    });
    core.boot('soft reset');
    expect(result(core.handle('Config.Get', { key: 'debug.level' }))).toBe(2);
    expect(
      result(core.handle('Config.Set', { config: { debug: { level: 4 } }, save: true })),
    ).toEqual({ saved: true });
    core.handle('Config.Set', { config: { debug: { level: 5 } } });
    expect(result(core.handle('Config.Save', {}))).toEqual({ saved: true });
    core.boot('soft reset');
    expect(result(core.handle('Config.Get', { key: 'debug.level' }))).toBe(5);
    expect(error(core.handle('Config.Set', {})).code).toBe(-32602);
    expect(core.handle('Config.Save', { reboot: true }).effects).toEqual([
      { kind: 'reboot', delayMs: 100 },
    ]);
  });

  it('Sys.Reboot replies true and asks for a reboot after delay_ms (default 100)', () => {
    const core = makeCore();
    expect(core.handle('Sys.Reboot', {}).effects).toEqual([{ kind: 'reboot', delayMs: 100 }]);
    const h = core.handle('Sys.Reboot', { delay_ms: 250 });
    expect(result(h)).toBe(true);
    expect(h.effects).toEqual([{ kind: 'reboot', delayMs: 250 }]);
  });

  it('a reboot resets uptime, reason and local state', () => {
    const clock = { t: 0 };
    const core = makeCore(clock);
    core.handle('Shadow.Delta', { state: { on: true } });
    clock.t = 5000;
    core.boot('soft reset');
    clock.t = 6000;
    expect(core.sysInfo()).toMatchObject({ uptime: 1, reboot_reason: 'soft reset' });
    expect(core.state).toEqual({ on: false });
  });

  it('Mongoose OS OTA.* through the dispatcher: offsets, new identity, GetBootState, Commit, Revert', () => {
    const core = makeCore();
    const manifest = { name: 'demo', platform: 'esp32', version: '2.0.0', build_id: 'b2' };
    const image = Buffer.from(
      zipSync({
        'manifest.json': strToU8(JSON.stringify(manifest)),
        'fw.bin': new Uint8Array(5000).fill(9),
      }),
    );
    const begin = core.handle('OTA.Begin', { size: image.length, commit_timeout: 60 });
    expect(result(begin)).toBe(true);
    expect(begin.effects).toEqual([]); // no State.Set: that is the Arduino library
    for (let off = 0; off < image.length; off += 64) {
      const h = core.handle('OTA.Write', {
        offset: off,
        data: image.subarray(off, off + 64).toString('base64'),
      });
      expect(result(h)).toBe(true);
      expect(h.effects).toEqual([]);
    }
    const gap = core.handle('OTA.Write', { offset: image.length + 1, data: 'AAAA' });
    expect(error(gap).code).toBe(-1);
    const end = core.handle('OTA.End', {});
    expect(result(end)).toBe(true);
    expect(end.effects).toEqual([{ kind: 'reboot', delayMs: 500 }]);
    core.boot('soft reset');
    expect(core.sysInfo()).toMatchObject({ fw_version: '2.0.0', fw_id: 'b2', app: 'demo' });
    expect(result(core.handle('OTA.GetBootState', {}))).toEqual({
      active_slot: 1,
      is_committed: false,
      revert_slot: 0,
      commit_timeout: 60,
    });
    expect(result(core.handle('OTA.Revert', {}))).toBe(true);
    core.boot('soft reset');
    expect(core.sysInfo()).toMatchObject({ fw_version: '1.0.0', fw_id: 'v1' });
    expect(error(core.handle('OTA.Revert', {})).code).toBe(-1);
    expect(core.handle('OTA.Commit', {}).effects).toEqual([{ kind: 'committed' }]);
  });

  it('periodic reports have the documented shapes', () => {
    const clock = { t: 1_700_000_000_123 };
    const core = makeCore(clock);
    const shadow = core.shadowReport() as { state: { reported: Record<string, number> } };
    expect(Object.keys(shadow.state.reported).sort()).toEqual([
      'ram_free',
      'temperature',
      'uptime',
    ]);
    expect(core.logRecord()).toMatchObject({ fd: 1, t: 1_700_000_000.123, seq: 1 });
    expect(core.logRecord()).toMatchObject({ seq: 2 });
  });
});

describe('SimDeviceCore, Arduino / ESP-IDF mDash library family', () => {
  const arduino = (extra: Partial<SimCoreOptions> = {}): SimDeviceCore =>
    makeCore(undefined, {
      family: 'arduino',
      firmware: { fwVersion: '1.2.16-idf', fwId: '20261205-120000', app: 'blink' },
      ...extra,
    });
  const percentsOf = (h: Handled): (number | null)[] =>
    h.effects.flatMap((e) =>
      e.kind === 'notify' && e.method === 'State.Set'
        ? [(e.params as { ota: { percent: number | null } }).ota.percent]
        : [],
    );

  it('reports the library identity; no commit step (-32601), not in RPC.List', () => {
    const core = arduino();
    expect(core.sysInfo()).toMatchObject({
      fw_version: '1.2.16-idf',
      fw_id: '20261205-120000',
      arch: 'esp32',
    });
    expect(core.sysInfo()).not.toHaveProperty('mac');
    for (const m of ['OTA.Commit', 'OTA.Revert', 'OTA.GetBootState']) {
      expect(error(core.handle(m, {}))).toEqual({ code: -32601, message: 'method not found' });
    }
    const list = result(core.handle('RPC.List', {})) as string[];
    expect(list).toEqual(expect.arrayContaining(['OTA.Begin', 'OTA.Write', 'OTA.End']));
    expect(list).not.toContain('OTA.Commit');
    expect(SimDeviceCore.methodNames('mos')).toContain('OTA.GetBootState');
    expect(makeCore(undefined, { arch: 'esp8266' }).sysInfo()).toMatchObject({ arch: 'esp8266' });
  });

  it('appends whatever the offset, replies {queued}, State.Set 0..100 then null, reboots', () => {
    const core = arduino();
    const image = espAppImage({ date: 'Dec  6 2026', time: '10:00:00', size: 6000 });
    const begin = core.handle('OTA.Begin', { size: image.length, commit_timeout: 30 });
    expect(result(begin)).toBe(true);
    const percents = percentsOf(begin);
    for (let off = 0; off < image.length; off += 2048) {
      const chunk = image.subarray(off, off + 2048);
      // A nonsense offset: the library ignores it and appends.
      const h = core.handle('OTA.Write', { offset: 999_999, data: chunk.toString('base64') });
      expect(result(h)).toEqual({ queued: chunk.length });
      percents.push(...percentsOf(h));
    }
    const end = core.handle('OTA.End', {});
    expect(result(end)).toBe(true);
    percents.push(...percentsOf(end));
    expect(percents).toEqual([0, 34, 68, 100, null]);
    expect(end.effects).toContainEqual({ kind: 'reboot', delayMs: 500 });
    expect(core.boot('soft reset').booted).toBe('new');
    expect(core.sysInfo()).toMatchObject({ fw_version: '1.2.16-idf', fw_id: '20261206-100000' });
  });

  it("errors have the library's code 500 and messages; a failed End still clears progress", () => {
    const core = arduino();
    expect(error(core.handle('OTA.Write', { data: 'AAAA' }))).toEqual({
      code: 500,
      message: 'call OTA.Begin',
    });
    result(core.handle('OTA.Begin', { size: 100 }));
    expect(error(core.handle('OTA.Write', {}))).toEqual({ code: 500, message: 'data required' });
    expect(error(core.handle('OTA.Begin', { size: 100 })).message).toBe('OTA already in progress');
    const end = core.handle('OTA.End', {});
    expect(error(end)).toEqual({ code: 500, message: 'esp_ota_end: 5379' });
    expect(end.effects).toEqual([
      {
        kind: 'notify',
        method: 'State.Set',
        params: { ota: { percent: null } },
        beforeReply: true,
      },
    ]);
    expect(result(core.handle('OTA.Begin', { size: 100 }))).toBe(true);
  });
});

describe('SimDeviceCore OTA faults (both families)', () => {
  for (const family of ['mos', 'arduino'] as const) {
    const write = (core: SimDeviceCore, offset: number): Handled =>
      core.handle('OTA.Write', { offset, data: Buffer.alloc(100).toString('base64') });

    it(`${family}: fail at write N answers an error at the Nth write of every update`, () => {
      const core = makeCore(undefined, { family, otaFaults: { otaFailAtWrite: 2 } });
      result(core.handle('OTA.Begin', { size: 300 }));
      result(write(core, 0));
      expect(error(write(core, 100))).toEqual({
        code: family === 'arduino' ? 500 : -1,
        message: 'flash write failed at write 2 (simulated fault)',
      });
      expect(core.ota.uploading).toBe(true);
      core.otaFaults = {}; // faults can change while it runs
      result(write(core, 100));
    });

    it(`${family}: drop at write N gives no reply and breaks the connection`, () => {
      const core = makeCore(undefined, { family, otaFaults: { otaDropAtWrite: 1 } });
      result(core.handle('OTA.Begin', { size: 300 }));
      const h = write(core, 0);
      expect(h.reply).toBe(false);
      expect(h.effects).toEqual([{ kind: 'drop' }]);
    });

    it(`${family}: never-return makes the reboot after OTA.End a hang`, () => {
      const core = makeCore(undefined, { family, otaFaults: { otaNeverReturn: true } });
      const image = family === 'mos' ? mosFwZip({ version: '2', build_id: 'b2' }) : espAppImage();
      result(core.handle('OTA.Begin', { size: image.length }));
      result(core.handle('OTA.Write', { offset: 0, data: image.toString('base64') }));
      const end = core.handle('OTA.End', {});
      expect(end.effects).toContainEqual({ kind: 'reboot', delayMs: 500, hang: true });
    });

    it(`${family}: rollback boots the old firmware after a good OTA.End`, () => {
      const core = makeCore(undefined, { family, otaFaults: { otaRollback: true } });
      const before = core.sysInfo()['fw_id'];
      const image = family === 'mos' ? mosFwZip({ version: '2', build_id: 'b2' }) : espAppImage();
      result(core.handle('OTA.Begin', { size: image.length }));
      result(core.handle('OTA.Write', { offset: 0, data: image.toString('base64') }));
      result(core.handle('OTA.End', {}));
      expect(core.boot('soft reset').booted).toBe('reverted');
      expect(core.sysInfo()['fw_id']).toBe(before);
    });
  }
});
