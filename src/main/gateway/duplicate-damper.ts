/**
 * Damping for two devices that share one password (issue 7 item 18). PROTOCOL.md 1 says a new
 * login closes the older socket; two live devices then kick each other out forever (8 times in
 * 5 s was measured). Pure: the gateway passes the clock and asks two questions.
 *
 * - contested: should a newcomer be challenged rather than let in? Only when the incumbent
 *   session is itself a replacement made less than `duplicateWindowMs` ago, or a fight over this
 *   device is still being damped. A device whose first login finds its own half-open socket is
 *   never challenged, and the gateway lets any challenged newcomer in when the incumbent does not
 *   answer a ping (so a rebooted device is never held off by its dead socket).
 * - refuse: the incumbent is alive, so the newcomer is refused; returns its hold-off, which
 *   starts at `duplicateHoldOffMs` and doubles with each refusal up to `duplicateHoldOffMaxMs`.
 *   A fight that has been quiet for twice the cap is forgotten.
 */
export interface DamperTimings {
  duplicateWindowMs: number;
  duplicateHoldOffMs: number;
  duplicateHoldOffMaxMs: number;
}

interface Fight {
  holdOffMs: number;
  lastRefusedAt: number;
}

export class DuplicateDamper {
  private readonly fights = new Map<string, Fight>();

  constructor(private readonly t: DamperTimings) {}

  contested(deviceId: string, incumbentReplacedAt: number | null, now: number): boolean {
    if (incumbentReplacedAt === null) return false;
    if (now - incumbentReplacedAt < this.t.duplicateWindowMs) return true;
    return this.active(deviceId, now) !== undefined;
  }

  refuse(deviceId: string, now: number): number {
    const fight = this.active(deviceId, now);
    const holdOffMs = fight
      ? Math.min(fight.holdOffMs * 2, this.t.duplicateHoldOffMaxMs)
      : Math.min(this.t.duplicateHoldOffMs, this.t.duplicateHoldOffMaxMs);
    this.fights.set(deviceId, { holdOffMs, lastRefusedAt: now });
    return holdOffMs;
  }

  /** Devices with a fight on record (for tests and status). */
  get size(): number {
    return this.fights.size;
  }

  private active(deviceId: string, now: number): Fight | undefined {
    const fight = this.fights.get(deviceId);
    if (fight && now - fight.lastRefusedAt > 2 * this.t.duplicateHoldOffMaxMs) {
      this.fights.delete(deviceId);
      return undefined;
    }
    return fight;
  }
}
