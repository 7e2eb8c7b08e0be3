/**
 * `fleetbench sim` for the OTA benchmarks: bench-sim.ts's command plus a firmware family and an
 * ESP32 arch (so an ESP32 image passes the platform check without `force`), and a short reboot
 * after `OTA.End` so the measured time is the hub's, not the simulated reboot's.
 */
import { BenchChild } from './bench-child';
import { simArgs, type SimProcessOptions } from './bench-sim';

export type SimFamily = 'mos' | 'arduino';

export interface OtaSim {
  readonly child: BenchChild;
  readonly command: string;
  stop(): Promise<void>;
}

export function startOtaSim(
  o: SimProcessOptions & { family: SimFamily; rebootDelayMs?: number },
): OtaSim {
  const args = [
    ...simArgs(o),
    '--family',
    o.family,
    '--arch',
    'esp32',
    '--ota-reboot-delay',
    String(o.rebootDelayMs ?? 50),
  ];
  const child = BenchChild.node('bin/fleetbench.js', args, { label: o.label ?? `sim-${o.family}` });
  return {
    child,
    command: `node bin/fleetbench.js ${args.join(' ')}`,
    async stop() {
      await child.stop(15_000);
    },
  };
}
