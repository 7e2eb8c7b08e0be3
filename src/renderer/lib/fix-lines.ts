/**
 * A doctor fix (or a LAN service problem's fix) as the hub writes it: prose lines, and each
 * command on its own line indented by two spaces (lan/doctor-checks.ts `fixText`,
 * lan/bind-problem.ts). The Network page shows the prose as text and each command alone, with
 * a Copy button.
 */
export type FixLine = { kind: 'text'; text: string } | { kind: 'command'; text: string };

export function fixLines(fix: string): FixLine[] {
  const out: FixLine[] = [];
  for (const line of fix.split('\n')) {
    if (line.trim() === '') continue;
    if (!/^ {2}\S/.test(line)) {
      out.push({ kind: 'text', text: line });
      continue;
    }
    // `or with nftables: sudo nft ...`: the alternative's name stays text, the command alone.
    const alt = /^(or(?: [^:]{1,40})?:)\s+(\S.*)$/.exec(line.trim());
    if (alt?.[1] !== undefined && alt[2] !== undefined) {
      out.push({ kind: 'text', text: alt[1] }, { kind: 'command', text: alt[2] });
    } else out.push({ kind: 'command', text: line.trim() });
  }
  return out;
}
