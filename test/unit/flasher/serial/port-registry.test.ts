import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PortRegistry,
  describeOpenError,
  openErrorToHubError,
  type PortHolder,
} from '../../../../src/main/flasher/serial/port-registry';
import { HubError } from '../../../../src/shared/errors';

const dir = mkdtempSync(join(tmpdir(), 'fb-reg-'));
const dev = join(dir, 'ttyUSB0');
writeFileSync(dev, '');
const link = join(dir, 'usb-Silicon_Labs_CP2102_0001-if00-port0');
symlinkSync(dev, link);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function busyError(fn: () => unknown): HubError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HubError);
    return e as HubError;
  }
  throw new Error('expected port_busy');
}

describe('PortRegistry', () => {
  it('gives a second user a clear port_busy error naming the owner', () => {
    const reg = new PortRegistry();
    const lease = reg.acquire(dev, { kind: 'flash', id: '12' });
    const e = busyError(() => reg.acquire(dev, { kind: 'monitor', id: 'm1' }));
    expect(e.kind).toBe('port_busy');
    expect(e.code).toBe(4093);
    expect(e.status).toBe(409);
    expect(e.message).toBe(`port ${dev} is busy: used by flash job 12`);
    expect(reg.owner(dev)).toEqual({ kind: 'flash', id: '12' });
    lease.release();
  });

  it('treats a by-id symlink as the same port', () => {
    const reg = new PortRegistry();
    const lease = reg.acquire(link, { kind: 'provision', id: 'p7' });
    expect(lease.path).toBe(dev);
    expect(busyError(() => reg.acquire(dev, { kind: 'bench', id: 'b1' })).message).toMatch(
      /used by provisioning p7/,
    );
    expect(reg.owner(link)?.id).toBe('p7');
    lease.release();
    expect(reg.owner(dev)).toBeNull();
  });

  it('release is idempotent and a stale lease cannot free a new owner', () => {
    const reg = new PortRegistry();
    const first = reg.acquire(dev, { kind: 'monitor', id: 'a' });
    first.release();
    first.release();
    expect(first.released).toBe(true);
    const second = reg.acquire(dev, { kind: 'monitor', id: 'b' });
    first.release();
    expect(reg.owner(dev)?.id).toBe('b');
    second.release();
    expect(reg.list()).toEqual([]);
  });

  it('forceRelease takes the port and leaves the old lease inert', () => {
    const reg = new PortRegistry();
    const old = reg.acquire(dev, { kind: 'flash', id: '1' });
    expect(reg.forceRelease(dev)).toBe(true);
    expect(reg.forceRelease(dev)).toBe(false);
    const fresh = reg.acquire(dev, { kind: 'flash', id: '2' });
    old.release();
    expect(reg.owner(dev)?.id).toBe('2');
    fresh.release();
  });

  it('withPort releases in finally, also when fn throws', async () => {
    const reg = new PortRegistry();
    const seen: string[] = [];
    reg.on('acquired', (h: PortHolder) => seen.push(`+${h.owner.id}`));
    reg.on('released', (h: PortHolder) => seen.push(`-${h.owner.id}`));
    await expect(
      reg.withPort(dev, { kind: 'flash', id: 'x' }, async () => {
        expect(reg.owner(dev)?.id).toBe('x');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(reg.owner(dev)).toBeNull();
    expect(await reg.withPort(dev, { kind: 'bench', id: 'y' }, () => 42)).toBe(42);
    expect(seen).toEqual(['+x', '-x', '+y', '-y']);
  });

  it('lists holders and keeps ports independent', () => {
    const reg = new PortRegistry();
    const a = reg.acquire('/dev/ttyFAKE1', { kind: 'flash', id: '1' });
    const b = reg.acquire('/dev/ttyFAKE2', { kind: 'monitor', id: '2' });
    expect(reg.list().map((h) => [h.path, h.owner.kind])).toEqual([
      ['/dev/ttyFAKE1', 'flash'],
      ['/dev/ttyFAKE2', 'monitor'],
    ]);
    a.release();
    b.release();
  });

  it('rejects an empty path', () => {
    const reg = new PortRegistry();
    expect(busyError(() => reg.acquire('  ', { kind: 'flash', id: '1' })).kind).toBe(
      'validation_failed',
    );
  });
});

describe('describeOpenError', () => {
  it('classifies the errors serialport reports on Linux', () => {
    expect(
      describeOpenError('/dev/x', new Error('Error: No such file or directory, cannot open /dev/x'))
        .kind,
    ).toBe('not_found');
    expect(
      describeOpenError(
        '/dev/x',
        new Error('Error Resource temporarily unavailable Cannot lock port'),
      ).kind,
    ).toBe('busy');
    const perm = describeOpenError(
      '/dev/x',
      new Error('Error: Permission denied, cannot open /dev/x'),
    );
    expect(perm.kind).toBe('permission');
    expect(perm.hint).toMatch(/dialout/);
    expect(describeOpenError('/dev/x', 'weird').kind).toBe('other');
    expect(openErrorToHubError('/dev/x', new Error('Cannot lock port')).kind).toBe('port_busy');
    expect(
      openErrorToHubError('/dev/x', Object.assign(new Error('x'), { code: 'ENOENT' })).kind,
    ).toBe('port_not_found');
  });
});
