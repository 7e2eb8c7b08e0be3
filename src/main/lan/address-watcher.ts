/**
 * Watches the machine's LAN addresses (issue 12: the TLS certificate and the mDNS records follow
 * them). Node has no portable event for an address change, so the interface list is read every
 * `intervalMs` (config `discovery.addressPollMs`); `checkNow()` does it on demand. Changes are
 * handled one at a time, in order: a certificate is never made twice for one change.
 */
export class AddressWatcher {
  private last: string;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly read: () => string[],
    private readonly intervalMs: number,
    private readonly onChange: (addresses: string[]) => Promise<void> | void,
    private readonly onError: (err: unknown) => void,
  ) {
    this.last = signature(read());
  }

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.checkNow(), this.intervalMs);
    this.timer.unref();
  }

  /** Reads the addresses now; resolves (true when they had changed) once the change is handled. */
  checkNow(): Promise<boolean> {
    const run = this.chain.then(async () => {
      let addresses: string[];
      try {
        addresses = this.read();
      } catch (err) {
        this.onError(err);
        return false;
      }
      const sig = signature(addresses);
      if (sig === this.last) return false;
      this.last = sig;
      try {
        await this.onChange(addresses);
      } catch (err) {
        this.onError(err);
      }
      return true;
    });
    this.chain = run;
    return run;
  }

  /** Stops polling and waits for a change being handled. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.chain;
  }
}

function signature(addresses: string[]): string {
  return [...addresses].sort().join(',');
}
