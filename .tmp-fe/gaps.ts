import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Esp32Sim } from '../test/support/esp32-sim';
import { openPtyPair } from '../test/support/pty-pair';
import { issueImage } from '../bench/flash-end-to-end';
const pair = await openPtyPair();
const sim = new Esp32Sim({ path: pair.a, throttle: true, baud: 115200 });
await sim.start();
writeFileSync('/tmp/fe/app.bin', issueImage());
const s = sim as unknown as { onData: (c: Buffer) => void; sendPacket: (p: Uint8Array) => void };
const ev: [number, string][] = [];
const od = s.onData.bind(sim);
s.onData = (c: Buffer) => { ev.push([performance.now(), `rx ${c.length}`]); od(c); };
sim.on('command', (n: string) => ev.push([performance.now(), `cmd ${n}`]));
const child = spawn(process.execPath, ['bin/fleetbench.js', 'flash', '--port', pair.b, '--baud', '460800', '--reset', 'none', '--json', '/tmp/fe/app.bin@0x10000'], { stdio: 'ignore' });
await new Promise((r) => child.on('exit', r));
let last = 0; let inWrite = false; let lastCmd = 0;
for (const [t, what] of ev) {
  if (what === 'cmd FLASH_DEFL_BEGIN') inWrite = true;
  if (inWrite && what.startsWith('cmd')) { lastCmd = t; }
  if (inWrite && what.startsWith('rx') && lastCmd && t - last > 1) console.log(`gap ${(t - lastCmd).toFixed(2)} ms after cmd; ${what}`);
  if (inWrite) { if (what.startsWith('cmd')) console.log(`${what} at ${t.toFixed(1)}`); }
  last = t;
}
await sim.stop(); await pair.close();
