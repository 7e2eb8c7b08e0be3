/**
 * A simulated Improv serial device (ESPHome-like) on the simulator side of a pty pair: logs to the
 * same UART, answers "request current state", "request info" and "send Wi-Fi settings"; goes
 * ready -> provisioning -> provisioned with a redirect URL, or reports "unable to connect" when
 * the SSID is 'bad'. Packets with a bad checksum get the "invalid RPC" error state.
 *
 * Packet handling is written independently of src/main/flasher/provision/improv-serial.ts.
 */
import type { SerialPort } from 'serialport';
import { PtyPeer, openPeerPort } from './pty-peer';

export interface ImprovPeerOptions {
  path: string;
  baud?: number;
  /** Start already provisioned (answers state 0x04 plus the URL). */
  provisioned?: boolean;
  /** URL returned after provisioning; '' for none. */
  url?: string;
  /** Time spent "connecting to Wi-Fi". Default 150 ms. */
  connectMs?: number;
  /** Send a copy of every packet with a broken checksum first. */
  sendBadChecksumFirst?: boolean;
  /** Log lines every this many ms; 0 disables. Default 40. */
  logIntervalMs?: number;
  /** Answer REQUEST_INFO with "unknown RPC" (older firmware). */
  noInfo?: boolean;
  /** Ignore everything (not an Improv device). */
  silent?: boolean;
}

const HEADER = Buffer.from('IMPROV', 'latin1');

function packet(type: number, data: number[]): Buffer {
  const bytes = [...HEADER, 1, type, data.length, ...data];
  const sum = bytes.reduce((a, b) => a + b, 0) & 0xff;
  return Buffer.from([...bytes, sum, 0x0a]);
}

function strings(list: string[]): number[] {
  const out: number[] = [];
  for (const s of list) {
    const b = Buffer.from(s, 'utf8');
    out.push(b.length, ...b);
  }
  return out;
}

export class ImprovPeer extends PtyPeer {
  state: number;
  /** Credentials the device received. */
  readonly received: { ssid: string; pass: string }[] = [];
  /** Packets from the host rejected for a bad checksum. */
  badPackets = 0;
  readonly commands: number[] = [];
  private rx: number[] = [];

  private constructor(
    port: SerialPort,
    private readonly opts: ImprovPeerOptions,
  ) {
    super(port);
    this.state = opts.provisioned ? 0x04 : 0x02;
  }

  static async start(opts: ImprovPeerOptions): Promise<ImprovPeer> {
    const port = await openPeerPort(opts.path, opts.baud);
    const peer = new ImprovPeer(port, opts);
    port.on('data', (d: Buffer) => peer.onData(d));
    peer.send(Buffer.from('[I][app:029]: Running through setup()...\r\n', 'latin1'));
    let n = 0;
    peer.every(opts.logIntervalMs ?? 40, () => {
      n++;
      peer.send(Buffer.from(`[D][sensor:094]: 'Uptime': Sending state ${n}.00000 s\r\n`, 'latin1'));
    });
    return peer;
  }

  private send(buf: Buffer): void {
    this.writeRaw(buf);
  }

  private sendPacket(type: number, data: number[]): void {
    const p = packet(type, data);
    if (this.opts.sendBadChecksumFirst) {
      const bad = Buffer.from(p);
      bad[bad.length - 2] = ((bad[bad.length - 2] ?? 0) + 1) & 0xff;
      this.send(bad);
    }
    this.send(p);
  }

  private setState(s: number): void {
    this.state = s;
    this.sendPacket(0x01, [s]);
  }

  private result(command: number, list: string[]): void {
    const body = strings(list);
    this.sendPacket(0x04, [command, body.length, ...body]);
  }

  private onData(d: Buffer): void {
    if (this.opts.silent) return;
    this.rx.push(...d);
    for (;;) {
      const start = Buffer.from(this.rx).indexOf(HEADER);
      if (start < 0) {
        this.rx = this.rx.slice(-5);
        return;
      }
      if (this.rx.length < start + 9) return;
      const len = this.rx[start + 8] ?? 0;
      const total = 9 + len + 1;
      if (this.rx.length < start + total) return;
      const pkt = this.rx.slice(start, start + total);
      this.rx = this.rx.slice(start + total);
      const sum = pkt.slice(0, -1).reduce((a, b) => a + b, 0) & 0xff;
      if (sum !== pkt[pkt.length - 1] || pkt[6] !== 1 || pkt[7] !== 0x03) {
        this.badPackets++;
        this.sendPacket(0x02, [0x01]); // invalid RPC packet
        continue;
      }
      this.onRpc(pkt.slice(9, 9 + len));
    }
  }

  private onRpc(data: number[]): void {
    const command = data[0] ?? 0;
    const len = data[1] ?? 0;
    const payload = data.slice(2, 2 + len);
    this.commands.push(command);
    switch (command) {
      case 0x02: // request current state
        this.sendPacket(0x02, [0x00]);
        this.setState(this.state);
        if (this.state === 0x04) this.result(0x02, this.opts.url ? [this.opts.url] : []);
        return;
      case 0x03: // request info
        if (this.opts.noInfo) {
          this.sendPacket(0x02, [0x02]);
          return;
        }
        this.result(0x03, ['ESPHome', '2024.11.0', 'ESP32', 'living-room-sensor']);
        return;
      case 0x01: {
        const ssidLen = payload[0] ?? 0;
        const ssid = Buffer.from(payload.slice(1, 1 + ssidLen)).toString('utf8');
        const passLen = payload[1 + ssidLen] ?? 0;
        const pass = Buffer.from(payload.slice(2 + ssidLen, 2 + ssidLen + passLen)).toString(
          'utf8',
        );
        this.received.push({ ssid, pass });
        this.sendPacket(0x02, [0x00]);
        this.setState(0x03);
        this.later(this.opts.connectMs ?? 150, () => {
          if (ssid === 'bad') {
            this.sendPacket(0x02, [0x03]); // unable to connect
            this.setState(0x02);
          } else {
            this.setState(0x04);
            this.result(
              0x01,
              this.opts.url === '' ? [] : [this.opts.url ?? 'http://192.168.1.77/'],
            );
          }
        });
        return;
      }
      default:
        this.sendPacket(0x02, [0x02]); // unknown RPC
    }
  }
}
