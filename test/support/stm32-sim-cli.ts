/**
 * Runs the STM32 bootloader simulator on a tty until SIGINT/SIGTERM (FLASHING.md 7):
 *
 *   socat -d -d pty,raw,echo=0,link=/tmp/sim pty,raw,echo=0,link=/tmp/host &
 *   npm run sim:stm32 -- /tmp/sim --chip f4 --dump /tmp/flash.bin
 *   stm32flash -m 8n1 -b 115200 -w fw.bin -v -g 0x0 /tmp/host
 *
 * Every command is logged to stdout; on exit the flash is written to --dump.
 */
import { Command, InvalidArgumentError } from 'commander';
import { Stm32Sim } from './stm32-sim';
import type { SimPartName } from './stm32-sim-parts';

function parseSize(value: string): number {
  const m = /^(\d+)\s*([kKmM]?)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected bytes, e.g. 65536, 64K or 1M');
  const mult = m[2] === '' ? 1 : /k/i.test(m[2] ?? '') ? 1024 : 1024 * 1024;
  return Number(m[1]) * mult;
}

function parseBaud(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1200) throw new InvalidArgumentError('expected a baud rate');
  return n;
}

function parseChip(value: string): SimPartName {
  if (value !== 'f103' && value !== 'f4') throw new InvalidArgumentError('f103 or f4');
  return value;
}

const program = new Command()
  .name('stm32-sim')
  .description('STM32 system bootloader (AN3155) simulator on a serial port')
  .argument('<path>', 'tty to open (the simulator end of a pty pair)')
  .option(
    '--chip <chip>',
    'f103 (PID 0x410, Erase 0x43) or f4 (PID 0x413, 0x44)',
    parseChip,
    'f103',
  )
  .option('--baud <rate>', 'baud rate used for the throttle', parseBaud, 115200)
  .option('--throttle', 'delay traffic by its wire time (11 bits per byte)', false)
  .option('--flash-size <bytes>', 'flash size, on an erase-unit boundary', parseSize)
  .option('--dump <file>', 'write the flash here on exit')
  .action(
    async (
      path: string,
      o: { chip: SimPartName; baud: number; throttle: boolean; flashSize?: number; dump?: string },
    ) => {
      const sim = new Stm32Sim({
        path,
        part: o.chip,
        baud: o.baud,
        throttle: o.throttle,
        flashSize: o.flashSize,
        log: (line) => process.stdout.write(`${line}\n`),
      });
      await sim.start();
      process.stdout.write(
        `stm32-sim: ${sim.part.name} (PID ${sim.part.pid.toString(16)}) on ${path}, ${sim.flash.length} bytes of flash\n`,
      );
      let exiting = false;
      const exit = async (sig: string): Promise<void> => {
        if (exiting) return;
        exiting = true;
        await sim.stop();
        if (o.dump) {
          await sim.dump(o.dump);
          process.stdout.write(`stm32-sim: ${sig}, flash written to ${o.dump}\n`);
        }
        process.exit(0);
      };
      process.on('SIGINT', () => void exit('SIGINT'));
      process.on('SIGTERM', () => void exit('SIGTERM'));
    },
  );

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`stm32-sim: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
