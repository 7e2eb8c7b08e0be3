/**
 * Runs the ESP32 bootloader simulator on a tty path, for manual tests with any flasher:
 *
 *   socat -d -d pty,raw,echo=0,link=/tmp/esp-sim pty,raw,echo=0,link=/tmp/esp-host &
 *   npm run sim:esp32 -- /tmp/esp-sim --throttle --dump /tmp/flash.bin
 *   (then flash /tmp/esp-host; on Ctrl-C or SIGTERM the flash content is written to --dump)
 */
import { Command, InvalidArgumentError } from 'commander';
import { Esp32Sim } from './esp32-sim';
import { FLASH_SIZE_CODES, SIM_CHIPS, type SimChip } from './esp32-sim-chips';

function intArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

const program = new Command()
  .name('esp32-sim')
  .description('Simulated ESP32 ROM bootloader + flasher stub on a serial/pty path')
  .argument('<path>', 'tty path the simulator opens (one end of a socat pty pair)')
  .option('--chip <chip>', `chip to simulate (${Object.keys(SIM_CHIPS).join(', ')})`, 'esp32')
  .option('--baud <baud>', 'initial (ROM) baud rate', intArg, 115200)
  .option('--throttle', 'delay every byte by its wire time at the current baud', false)
  .option('--flash-size <size>', `flash size (${Object.keys(FLASH_SIZE_CODES).join(', ')})`, '4MB')
  .option('--mac <mac>', 'MAC address reported through efuses', '24:0a:c4:12:34:56')
  .option('--banner', 'print a ROM boot banner when the port opens', false)
  .option('--dump <file>', 'write the flash content to this file on exit')
  .parse();

const opts = program.opts<{
  chip: string;
  baud: number;
  throttle: boolean;
  flashSize: string;
  mac: string;
  banner: boolean;
  dump?: string;
}>();
const path = program.args[0] ?? '';

if (!(opts.chip in SIM_CHIPS)) program.error(`unknown chip ${opts.chip}`);
if (!(opts.flashSize in FLASH_SIZE_CODES))
  program.error(`unsupported flash size ${opts.flashSize}`);

const stamp = (): string => new Date().toISOString().slice(11, 23);
const sim = new Esp32Sim({
  path,
  chip: opts.chip as SimChip,
  baud: opts.baud,
  throttle: opts.throttle,
  flashSize: opts.flashSize,
  mac: opts.mac,
  faults: { banner: opts.banner },
  log: (line) => process.stdout.write(`${stamp()} ${line}\n`),
});
sim.on('command', (name: string) => {
  if (name !== 'FLASH_DEFL_DATA' && name !== 'FLASH_DATA' && name !== 'MEM_DATA') return;
  process.stdout.write(`${stamp()} ${name} (${sim.commands.length} commands so far)\n`);
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`${stamp()} ${signal}: stopping\n`);
  await sim.stop();
  if (opts.dump) {
    sim.dump(opts.dump);
    process.stdout.write(`${stamp()} flash written to ${opts.dump}\n`);
  }
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

sim.start().catch((err: unknown) => {
  process.stderr.write(`cannot start the simulator on ${path}: ${(err as Error).message}\n`);
  process.exit(1);
});
