/**
 * Ingesting devices for bench/sql-under-ingest.ts, a separate process: bare device sockets (one per
 * password in the file) that answer the hub's calls (Sys.GetInfo; the spool drain's FS.Get with
 * "no such file") and then each send `DB.Save` with an id, the next one `--interval-ms` after the
 * reply: closed loop, so the hub sets the pace when it falls behind. Prints `ready N` once every
 * device is online and `rows N` (replies so far) every second.
 *
 * node --import tsx bench/db-save-flood.ts <url> <passwords-file> [--interval-ms 100]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

interface Frame {
  id?: number;
  method?: string;
  result?: unknown;
  error?: unknown;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'interval-ms': { type: 'string', default: '100' } },
});
const [url, file] = positionals;
if (url === undefined || file === undefined) {
  console.error('usage: db-save-flood <url> <passwords-file> [--interval-ms N]');
  process.exit(2);
}
const intervalMs = Number(values['interval-ms']);
const tokens = readFileSync(file, 'utf8').split('\n').filter(Boolean);
let ready = 0;
let rows = 0;
let errors = 0;

function device(token: string, n: number): void {
  const ws = new WebSocket(url as string, { headers: { authorization: `Bearer ${token}` } });
  let next = 1_000_000;
  let started = false;
  const save = (): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    const id = ++next;
    ws.send(
      JSON.stringify({
        id,
        method: 'DB.Save',
        params: { t: Date.now(), temp: 20 + Math.sin(id / 10) * 5, n },
      }),
    );
  };
  ws.on('message', (data) => {
    let f: Frame;
    try {
      f = JSON.parse(data.toString()) as Frame;
    } catch {
      return;
    }
    if (f.method === 'Sys.GetInfo') {
      ws.send(
        JSON.stringify({ id: f.id, result: { fw_version: '1.0', arch: 'esp32', app: 'flood' } }),
      );
      if (!started) {
        started = true;
        ready++;
        // Spread the first saves over one interval so the devices do not beat in step.
        setTimeout(save, Math.random() * intervalMs);
      }
    } else if (f.method !== undefined) {
      ws.send(JSON.stringify({ id: f.id, error: { code: -1, message: 'no such file' } }));
    } else if (typeof f.id === 'number' && f.id > 1_000_000) {
      if (f.error !== undefined) errors++;
      else rows++;
      setTimeout(save, intervalMs);
    }
  });
  ws.on('error', () => undefined);
}

tokens.forEach((t, i) => device(t, i));
const waitReady = setInterval(() => {
  if (ready === tokens.length) {
    clearInterval(waitReady);
    console.log(`ready ${ready}`);
  }
}, 100);
setInterval(() => console.log(`rows ${rows} errors ${errors}`), 1000);
