/**
 * A SerialPortMock (@serialport/binding-mock) opened and wrapped in our real Stm32Link, with hooks
 * on the mock binding: every `set()` is recorded (the mock keeps no record of modem lines), `set`
 * can be made to fail like a pty does, and a scripted device can answer each write.
 */
import { SerialPortMock } from 'serialport';
import { Stm32Link } from '../../../../src/main/flasher/stm32/stm32-link';

type SetFlags = Record<string, boolean | undefined>;

/** The parts of @serialport/binding-mock's MockPortBinding we hook (its .d.ts does not resolve here). */
interface MockPortBinding {
  readonly isOpen: boolean;
  set(options: SetFlags): Promise<void>;
  write(buffer: Buffer): Promise<void>;
  emitData(data: Buffer): void;
}

export interface MockLink {
  link: Stm32Link;
  port: SerialPortMock;
  binding: MockPortBinding;
  /** Every flag set the stream handed to the binding, after serialport's default merging. */
  sets: SetFlags[];
  /** Each write to the port, in order. */
  writes: number[][];
  /** Make the next set() calls fail with this error (null: succeed). */
  failSetWith: Error | null;
  /** Called for each write; returned bytes are sent back as if from the device. */
  respond: ((written: number[]) => number[] | undefined) | null;
  close(): Promise<void>;
}

let counter = 0;

export async function openMockLink(signal?: AbortSignal): Promise<MockLink> {
  const path = `/dev/fb-mock-${process.pid}-${++counter}`;
  // The binding instance serialport itself loaded (the package ships CJS and ESM copies).
  SerialPortMock.binding.createPort(path, { echo: false, record: true });
  const port = new SerialPortMock({ path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  const binding = port.port as unknown as MockPortBinding | undefined;
  if (!binding) throw new Error('mock port did not open');
  const m: MockLink = {
    link: Stm32Link.attach(port, signal),
    port,
    binding,
    sets: [],
    writes: [],
    failSetWith: null,
    respond: null,
    close: () => m.link.close(),
  };
  const origSet = binding.set.bind(binding);
  binding.set = async (options) => {
    if (m.failSetWith) throw m.failSetWith;
    m.sets.push({ ...options });
    return origSet(options);
  };
  const origWrite = binding.write.bind(binding);
  binding.write = async (buffer: Buffer) => {
    await origWrite(buffer);
    const written = Array.from(buffer);
    m.writes.push(written);
    const reply = m.respond?.(written);
    if (reply && reply.length > 0) {
      setImmediate(() => {
        if (binding.isOpen) binding.emitData(Buffer.from(reply));
      });
    }
  };
  return m;
}
