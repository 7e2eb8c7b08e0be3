import { describe, expect, it } from 'vitest';
import { fixLines } from '../../../src/renderer/lib/fix-lines';

describe('fixLines', () => {
  it('splits prose from indented commands', () => {
    expect(
      fixLines(
        'Restart the hub on every interface:\n  fleetbench serve --host 0.0.0.0\nor:\n\n  sudo ufw allow 8009/tcp',
      ),
    ).toEqual([
      { kind: 'text', text: 'Restart the hub on every interface:' },
      { kind: 'command', text: 'fleetbench serve --host 0.0.0.0' },
      { kind: 'text', text: 'or:' },
      { kind: 'command', text: 'sudo ufw allow 8009/tcp' },
    ]);
  });

  it('keeps the name of an alternative as text before its command', () => {
    expect(fixLines('Redirect:\n  or with nftables: sudo nft add table ip nat')).toEqual([
      { kind: 'text', text: 'Redirect:' },
      { kind: 'text', text: 'or with nftables:' },
      { kind: 'command', text: 'sudo nft add table ip nat' },
    ]);
  });

  it('keeps a one-line fix as text', () => {
    expect(fixLines('Restart the hub.')).toEqual([{ kind: 'text', text: 'Restart the hub.' }]);
  });
});
