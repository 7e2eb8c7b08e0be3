/**
 * Edge behaviour of the AN3155 client that the simulator does not produce on its own (BUSY,
 * chunked Extended Erase, init corner cases), over a scripted device on @serialport/binding-mock.
 * The full command set is exercised against the simulator in test/integration.
 */
import { afterEach, describe, it, expect } from 'vitest';
import { FlashError } from '../../../../src/shared/flash-state';
import { Stm32Client } from '../../../../src/main/flasher/stm32/stm32-client';
import { openMockLink, type MockLink } from './mock-port';

const ACK = 0x79;
const NACK = 0x1f;
const BUSY = 0x76;
const FAST = { replyMs: 80, initMs: 60, writeMs: 80, erasePageMs: 20, massEraseMs: 80 };
const GET_F4 = [
  ACK,
  0x0b,
  0x31,
  0x00,
  0x01,
  0x02,
  0x11,
  0x21,
  0x31,
  0x44,
  0x63,
  0x73,
  0x82,
  0x92,
  ACK,
];
const GET_F1 = [
  ACK,
  0x0b,
  0x22,
  0x00,
  0x01,
  0x02,
  0x11,
  0x21,
  0x31,
  0x43,
  0x63,
  0x73,
  0x82,
  0x92,
  ACK,
];

/** Replies are taken in order, one per write; `undefined` answers nothing. */
function script(mock: MockLink, replies: Array<number[] | undefined>): void {
  const queue = [...replies];
  mock.respond = () => queue.shift();
}

async function failure(p: Promise<unknown>): Promise<FlashError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof FlashError)) throw new Error(`expected a FlashError, got ${String(err)}`);
  return err;
}

describe('Stm32Client', () => {
  let mock: MockLink | null = null;
  afterEach(async () => {
    await mock?.close();
    mock = null;
  });

  it('init: ACK is a fresh session, NACK an already initialised one', async () => {
    mock = await openMockLink();
    const client = new Stm32Client(mock.link, FAST);
    script(mock, [[ACK]]);
    expect(await client.init()).toBe('ack');
    script(mock, [[NACK]]);
    expect(await client.init()).toBe('already_initialised');
    expect(mock.writes).toEqual([[0x7f], [0x7f]]);
  });

  it('init: silence, then NACK to a second 0x7F (it was taken as a command byte)', async () => {
    mock = await openMockLink();
    const client = new Stm32Client(mock.link, FAST);
    script(mock, [undefined, [NACK]]);
    expect(await client.init()).toBe('already_initialised');
    expect(mock.writes).toEqual([[0x7f], [0x7f]]);
  });

  it('init: no answer at all, or garbage, is no_sync', async () => {
    mock = await openMockLink();
    const client = new Stm32Client(mock.link, FAST);
    script(mock, []);
    expect((await failure(client.init())).code).toBe('no_sync');
    script(mock, [[0x00]]);
    expect((await failure(client.init())).code).toBe('no_sync');
  });

  it('parses Get, Get Version and Get ID', async () => {
    mock = await openMockLink();
    const client = new Stm32Client(mock.link, FAST);
    script(mock, [GET_F1, [ACK, 0x22, 0x00, 0x00, ACK], [ACK, 0x01, 0x04, 0x10, ACK]]);
    expect((await client.get()).commands).toContain(0x43);
    expect(await client.getVersion()).toEqual({ version: 0x22, option1: 0, option2: 0 });
    expect(await client.getId()).toBe(0x410);
    expect(mock.writes).toEqual([
      [0x00, 0xff],
      [0x01, 0xfe],
      [0x02, 0xfd],
    ]);
  });

  it('waits through BUSY for the ACK after programming', async () => {
    mock = await openMockLink();
    const client = new Stm32Client(mock.link, FAST);
    script(mock, [[ACK], [ACK], [BUSY, BUSY, ACK]]);
    await client.writeMemory(0x08000000, Uint8Array.of(1, 2, 3));
    expect(mock.writes[1]).toEqual([0x08, 0x00, 0x00, 0x00, 0x08]);
    expect(mock.writes[2]).toEqual([3, 1, 2, 3, 0xff, 1 ^ 2 ^ 3 ^ 0xff ^ 3]);
  });

  it('maps NACK, stray bytes and silence to coded errors', async () => {
    mock = await openMockLink();
    const client = new Stm32Client(mock.link, FAST);
    script(mock, [[ACK], [ACK], [NACK]]);
    const nack = await failure(client.writeMemory(0x08000000, Uint8Array.of(1, 2, 3, 4)));
    expect(nack.code).toBe('protocol_error');
    expect(nack.message).toMatch(/refused Write Memory data/);

    script(mock, [[0x42]]);
    const noise = await failure(client.getVersion());
    expect(noise.code).toBe('protocol_error');
    expect(noise.message).toMatch(/unexpected byte 0x42/);

    mock.link.discardInput();
    script(mock, [[ACK], [ACK], undefined]);
    const started = Date.now();
    const silent = await failure(client.writeMemory(0x08000000, Uint8Array.of(1, 2, 3, 4)));
    expect(silent.code).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(FAST.writeMs - 5);
  });

  it('reads memory: address, length frame, then the data', async () => {
    mock = await openMockLink();
    const client = new Stm32Client(mock.link, FAST);
    script(mock, [[ACK], [ACK], [ACK, 9, 8, 7]]);
    expect(Array.from(await client.readMemory(0x08000100, 3))).toEqual([9, 8, 7]);
    expect(mock.writes).toEqual([
      [0x11, 0xee],
      [0x08, 0x00, 0x01, 0x00, 0x09],
      [0x02, 0xfd],
    ]);
  });

  it('splits a long Extended Erase into chunks of 511 pages', async () => {
    mock = await openMockLink();
    const client = new Stm32Client(mock.link, FAST);
    script(mock, [GET_F4, [ACK], [ACK], [ACK], [ACK]]);
    await client.get();
    const pages = Array.from({ length: 600 }, (_, i) => i);
    await client.erase(pages);
    const payloads = mock.writes.filter((w) => w.length > 2);
    expect(payloads).toHaveLength(2);
    expect(payloads[0]?.slice(0, 2)).toEqual([0x01, 0xfe]); // 511 - 1 = 0x01FE
    expect(payloads[1]?.slice(0, 2)).toEqual([0x00, 88]); // 89 - 1
    expect(mock.writes.filter((w) => w[0] === 0x44 && w[1] === 0xbb)).toHaveLength(2);
  });

  it('mass-erases with FF 00 on 0x43 parts and refuses page numbers above 255', async () => {
    mock = await openMockLink();
    const client = new Stm32Client(mock.link, FAST);
    script(mock, [GET_F1, [ACK], [ACK]]);
    await client.get();
    await client.erase('all');
    expect(mock.writes.slice(-2)).toEqual([
      [0x43, 0xbc],
      [0xff, 0x00],
    ]);
    const err = await failure(client.erase([255, 256]));
    expect(err.code).toBe('protocol_error');
    expect(mock.writes).toHaveLength(3); // nothing sent for the impossible erase
  });
});
