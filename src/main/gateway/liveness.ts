/**
 * Missed-pong counting (PROTOCOL.md 1: ping every 20 s, drop after 3 missed pongs = 60 s). Pure:
 * the session calls `due()` at connect and then once per ping interval on its own timer, and
 * `heard()` on every sign of life (pong, the device's own ping, any frame).
 *
 * A ping is missed when the next one is due and nothing was heard since it went out. So a peer
 * that never answers gets exactly `maxMissed` pings and is dropped exactly `maxMissed` intervals
 * after the first one; each session runs on its own clock from its connect, so the drop does not
 * depend on where a shared timer happened to be (which made it 40-80 s before).
 */
export type LivenessStep = 'ping' | 'drop';

export class MissedPongs {
  missed = 0;
  private outstanding = false;
  private heardSincePing = false;

  constructor(readonly maxMissed: number) {}

  heard(): void {
    this.heardSincePing = true;
  }

  /** A ping is due: send one, or drop the peer. */
  due(): LivenessStep {
    if (this.outstanding) this.missed = this.heardSincePing ? 0 : this.missed + 1;
    if (this.missed >= this.maxMissed) return 'drop';
    this.outstanding = true;
    this.heardSincePing = false;
    return 'ping';
  }
}
