import { describe, expect, it } from 'vitest';
import { simFaults } from '../../../src/main/cli/sim-cli';

const base = { url: 'ws://x', count: '1', statsInterval: '0' };

describe('fleetbench sim fault flags', () => {
  it('maps the OTA fault flags onto SimFaults', () => {
    expect(
      simFaults({
        ...base,
        otaFailAtWrite: '3',
        otaDropAtWrite: '5',
        otaRollback: true,
        otaNeverReturn: true,
        otaWriteDelay: '20',
      }),
    ).toEqual({
      otaFailAtWrite: 3,
      otaDropAtWrite: 5,
      otaRollback: true,
      otaNeverReturn: true,
      otaWriteDelayMs: 20,
    });
    expect(simFaults(base)).toBeUndefined();
  });

  it('refuses out-of-range values with the flag named', () => {
    expect(() => simFaults({ ...base, otaFailAtWrite: '0' })).toThrow(/--ota-fail-at-write '0'/);
    expect(() => simFaults({ ...base, otaWriteDelay: 'slow' })).toThrow(/--ota-write-delay/);
  });
});
