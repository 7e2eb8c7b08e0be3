/**
 * Plumbing shared by the simulated serial devices that sit on the simulator side of a pty pair
 * (ImprovPeer, MosUartPeer, the template line peer): opening the port, timers that die with the
 * peer, and a stop() that releases everything so the next test can reuse the path.
 */
import { SerialPort } from 'serialport';

/** Opens `path` the way a device's UART would be: errors after open are swallowed (the host may vanish). */
export async function openPeerPort(path: string, baud = 115200): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: baud, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  port.on('error', () => {});
  return port;
}

export function closePeerPort(port: SerialPort): Promise<void> {
  return new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r()));
}

export abstract class PtyPeer {
  private timers = new Set<NodeJS.Timeout>();
  private ticker: NodeJS.Timeout | null = null;

  protected constructor(protected readonly port: SerialPort) {}

  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await closePeerPort(this.port);
  }

  /** Runs `fn` every `ms` until stop(); 0 disables. */
  protected every(ms: number, fn: () => void): void {
    if (ms > 0) this.ticker = setInterval(fn, ms);
  }

  protected later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  protected writeRaw(buf: Buffer): void {
    if (this.port.isOpen) this.port.write(buf);
  }
}
