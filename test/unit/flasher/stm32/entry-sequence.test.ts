import { afterEach, describe, it, expect } from 'vitest';
import { HubError } from '../../../../src/shared/errors';
import { FlashError } from '../../../../src/shared/flash-state';
import {
  BREAK_MS,
  MAX_SEQUENCE_LENGTH,
  NO_RESET_LINES_WARNING,
  isNoModemLinesError,
  parseEntrySequence,
  runSignalSteps,
  sequenceDurationMs,
  type SignalStep,
} from '../../../../src/main/flasher/stm32/entry-sequence';
import { openMockLink, type MockLink } from './mock-port';

function problem(text: string): string {
  try {
    parseEntrySequence(text);
  } catch (err) {
    if (err instanceof HubError) return `${err.kind}: ${err.message}`;
    throw err;
  }
  return 'accepted';
}

describe('parseEntrySequence (stm32flash -i syntax)', () => {
  it('parses the classic entry/exit example', () => {
    const seq = parseEntrySequence('-dtr,rts,-rts:dtr');
    expect(seq.entry).toEqual<SignalStep[]>([
      { kind: 'set', signal: 'dtr', level: false },
      { kind: 'wait', ms: 100 },
      { kind: 'set', signal: 'rts', level: true },
      { kind: 'wait', ms: 100 },
      { kind: 'set', signal: 'rts', level: false },
    ]);
    expect(seq.exit).toEqual<SignalStep[]>([{ kind: 'set', signal: 'dtr', level: true }]);
  });

  it('"&" adds no delay, empty steps are pure delays', () => {
    expect(sequenceDurationMs(parseEntrySequence('dtr&-rts').entry)).toBe(0);
    expect(sequenceDurationMs(parseEntrySequence(',,,,,').entry)).toBe(500);
    const seq = parseEntrySequence(':rts&-dtr,,,rts');
    expect(seq.entry).toEqual([]);
    expect(sequenceDurationMs(seq.exit)).toBe(300);
    expect(seq.exit.filter((s) => s.kind === 'set')).toHaveLength(3);
  });

  it('accepts upper case and spaces, and brk', () => {
    const seq = parseEntrySequence(' DTR , -Rts & brk ');
    expect(seq.entry.filter((s) => s.kind === 'set')).toEqual([
      { kind: 'set', signal: 'dtr', level: true },
      { kind: 'set', signal: 'rts', level: false },
      { kind: 'set', signal: 'brk', level: true },
    ]);
    expect(sequenceDurationMs(seq.entry)).toBe(100 + BREAK_MS);
    expect(parseEntrySequence('')).toEqual({ entry: [], exit: [] });
  });

  it('rejects what it cannot do with a coded, positioned error', () => {
    expect(problem('-3&-2,2')).toMatch(/^validation_failed: .*GPIO numbers are not supported/);
    expect(problem('dtr,rst')).toMatch(/^validation_failed: .*"rst" at character 5/);
    expect(problem('dtr;rts')).toMatch(/^validation_failed/);
    expect(problem('dtr:rts:dtr')).toMatch(/only one ":"/);
    expect(problem('--dtr')).toMatch(/^validation_failed/);
    expect(problem(','.repeat(MAX_SEQUENCE_LENGTH))).toBe('accepted');
    expect(problem(','.repeat(MAX_SEQUENCE_LENGTH + 1))).toMatch(/longer than/);
  });

  it('recognises the pty error', () => {
    expect(
      isNoModemLinesError(new Error('Error: Inappropriate ioctl for device, cannot set')),
    ).toBe(true);
    expect(isNoModemLinesError(Object.assign(new Error('x'), { code: 'ENOTTY' }))).toBe(true);
    expect(isNoModemLinesError(new Error('Port is not open'))).toBe(false);
    expect(isNoModemLinesError(null)).toBe(false);
  });
});

describe('runSignalSteps over @serialport/binding-mock', () => {
  let mock: MockLink | null = null;
  afterEach(async () => {
    await mock?.close();
    mock = null;
  });

  const instantSleep = (log: string[]) => async (ms: number) => {
    log.push(`wait ${ms}`);
  };

  it('sends the full line state at every step, so one line never flips the other', async () => {
    mock = await openMockLink();
    const log: string[] = [];
    const { entry, exit } = parseEntrySequence('-dtr,rts,-rts:dtr');
    const ran = await runSignalSteps(entry, mock.link, { sleep: instantSleep(log) });
    expect(ran.warning).toBeUndefined();
    // serialport fills unspecified flags with dtr:true, rts:true; we must override both.
    expect(mock.sets).toEqual([
      { brk: false, cts: false, dtr: false, rts: true },
      { brk: false, cts: false, dtr: false, rts: true },
      { brk: false, cts: false, dtr: false, rts: false },
    ]);
    expect(log).toEqual(['wait 100', 'wait 100']);
    expect(ran.lines).toEqual({ dtr: false, rts: false, brk: false });
    await runSignalSteps(exit, mock.link, { sleep: instantSleep(log), initial: ran.lines });
    expect(mock.sets.at(-1)).toMatchObject({ dtr: true, rts: false, brk: false });
  });

  it('pulses BREAK for brk and ignores -brk', async () => {
    mock = await openMockLink();
    const log: string[] = [];
    await runSignalSteps(parseEntrySequence('brk&-brk').entry, mock.link, {
      sleep: instantSleep(log),
    });
    expect(mock.sets.map((s) => s.brk)).toEqual([true, false]);
    expect(log).toEqual([`wait ${BREAK_MS}`]);
  });

  it('turns ENOTTY (a pty) into a warning and stops the sequence', async () => {
    mock = await openMockLink();
    mock.failSetWith = new Error('Error: Inappropriate ioctl for device, cannot set');
    const log: string[] = [];
    const ran = await runSignalSteps(parseEntrySequence('-dtr,rts,-rts').entry, mock.link, {
      sleep: instantSleep(log),
    });
    expect(ran.warning).toBe(NO_RESET_LINES_WARNING);
    expect(log).toEqual([]); // nothing after the first failed step ran
    expect(mock.port.isOpen).toBe(true);
  });

  it('reports other failures as a FlashError', async () => {
    mock = await openMockLink();
    mock.failSetWith = new Error('device disconnected');
    await expect(
      runSignalSteps(parseEntrySequence('dtr').entry, mock.link, { sleep: async () => {} }),
    ).rejects.toMatchObject({ name: 'FlashError', code: 'port_vanished' });
  });

  it('stops when cancelled, during a real wait', async () => {
    mock = await openMockLink();
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 30);
    const err = await runSignalSteps(parseEntrySequence(',,,,,,,,,,dtr').entry, mock.link, {
      signal: ac.signal,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlashError);
    expect((err as FlashError).code).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(500);
    expect(mock.sets).toEqual([]);
  });
});
