import { describe, expect, it } from 'vitest';
import { attachDecoded, frameText, readDecoded } from '../../../src/renderer/lib/decoded-backtrace';
import { createDeviceDetailStore } from '../../../src/renderer/stores/device-detail-store';
import type { SeqLine } from '../../../src/renderer/lib/decoded-backtrace';

const frames = [
  { pc: '0x400d1012', function: 'app_main', file: '/p/main/app_main.c', line: 42 },
  { pc: '0x3f400000', function: null, file: null, line: null },
];
const decoded = { seq: 12, t: 1, firmware: 'fw1', fw_id: 'x', backtrace: 'Backtrace: ..', frames };

describe('log.decoded in the console', () => {
  it('reads the notification data and refuses malformed frames', () => {
    expect(readDecoded(decoded)).toEqual({ seq: 12, backtrace: 'Backtrace: ..', frames });
    expect(readDecoded({ ...decoded, frames: [{ pc: 1 }] })).toBeNull();
    expect(readDecoded('Backtrace')).toBeNull();
  });

  it('attaches frames to the line with the same seq, else to the newest backtrace line', () => {
    const lines: SeqLine[] = [
      { seq: 11, text: 'Guru' },
      { seq: 12, text: '8004:0x3ffb1f70\n' },
      { seq: 13, text: 'Rebooting...' },
    ];
    expect(attachDecoded(lines, { seq: 12, backtrace: '', frames })[1]?.frames).toEqual(frames);
    const noSeq: SeqLine[] = [
      { seq: null, text: 'Backtrace: 0x1:0x2' },
      { seq: null, text: 'x' },
    ];
    expect(attachDecoded(noSeq, { seq: null, backtrace: '', frames })[0]?.frames).toEqual(frames);
    expect(attachDecoded(lines, { seq: 99, backtrace: '', frames })).toBe(lines);
  });

  it('formats a frame like addr2line', () => {
    expect(frameText(frames[0]!)).toBe('0x400d1012: app_main at /p/main/app_main.c:42');
    expect(frameText(frames[1]!)).toBe('0x3f400000');
  });

  it('shows the frames under the console line in the device store', () => {
    const store = createDeviceDetailStore({
      api: () => null,
      reportError: () => {},
      onUnauthorized: () => {},
      now: () => 0,
    });
    store.setState({ id: 'd1' });
    const log = (seq: number, data: string) => ({
      name: 'rpc.out.Log',
      id: 'd1',
      data: { fd: 1, data, seq, t: seq },
    });
    store.getState().applyNotifications([log(11, 'Backtrace: 0x400d'), log(12, '1012:0x3\n')]);
    store.getState().applyNotifications([{ name: 'log.decoded', id: 'd1', data: decoded }]);
    const lines = store.getState().console;
    expect(lines.map((l) => l.frames)).toEqual([undefined, frames]);
    expect(store.getState().events).toEqual([]);
  });
});
