/**
 * `serve --demo N`: N simulated devices, so a newcomer sees a live fleet at once. They are
 * ordinary registered devices (`demo-1`..`demo-N`), reused on the next start.
 *
 * The devices run in a child process (the `fleetbench sim` code path, runSimCommand), not in the
 * hub's: there each device costs the hub one file descriptor instead of two, so 10,000 of them
 * fit a 20,000 limit (issue 7 item 2), and their work does not share the hub's event loop. The
 * child gets the device URL and passwords over an IPC channel (never argv: other users can read
 * command lines), raises its own file limit, and stops when the hub stops or dies (the channel
 * closes with the hub, even on SIGKILL).
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Command } from 'commander';
import Type from 'typebox';
import type { Hub } from '../hub';
import { isValid } from '../validate';
import { runSimCommand, type SimRun } from '../sim/sim-command';
import { ensureDemoChildFds } from './fd-limit';
import { aclQueryText } from '../../shared/acl-query';
import { SIM_DATA_QUERY, SIM_DATA_WRITE } from '../sim/sim-sensors';

/** Each demo device stores a reading (temperature, humidity, counter) this often. */
export const DEMO_DATA_INTERVAL_MS = 10_000;

/** The hidden CLI command the hub forks to run its demo devices. */
export const DEMO_CHILD_COMMAND = 'demo-fleet-child';

/** How long a stop waits for the child to close its sockets before it is killed. */
const STOP_GRACE_MS = 5_000;

const StartMessage = Type.Object({
  type: Type.Literal('start'),
  url: Type.String({ minLength: 1 }),
  passwords: Type.Array(Type.String({ minLength: 1 }), { maxItems: 100_000 }),
});
type StartMessage = Type.Static<typeof StartMessage>;

const ChildMessage = Type.Union([
  // Sent first: a message sent before the child listens would be lost.
  Type.Object({ type: Type.Literal('listening') }),
  Type.Object({ type: Type.Literal('started') }),
  Type.Object({ type: Type.Literal('failed'), message: Type.String() }),
]);

export interface DemoFleet {
  /** The child's pid (tests, diagnostics). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export interface DemoFleetOptions {
  /** Script that runs the `fleetbench` CLI in a new process; default: this process's own. */
  cliScript?: string;
  /** Told when the child ends without being asked to (it crashed or was killed). */
  onExit?: (message: string) => void;
}

export async function startDemoFleet(
  hub: Hub,
  count: number,
  opts: DemoFleetOptions = {},
): Promise<DemoFleet> {
  const { devices } = hub.services();
  const passwords: string[] = [];
  const aclWrites: Promise<void>[] = [];
  for (let i = 1; i <= count; i++) {
    const id = `demo-${i}`;
    const dev = devices.find(id) ?? devices.create({ id, name: `Demo device ${i}` });
    // Their readings need a data_write query of that name (PROTOCOL.md 5); one set by hand stays.
    if (aclQueryText(dev.acl, 'data_write', SIM_DATA_QUERY) === null) {
      // Not awaited one by one: queued together they share group commits (10,000 at first start).
      aclWrites.push(
        devices.setAcl(id, {
          ...dev.acl,
          data_write: { ...dev.acl.data_write, [SIM_DATA_QUERY]: SIM_DATA_WRITE },
        }),
      );
    }
    passwords.push(dev.token);
  }
  await Promise.all(aclWrites);
  const url = hub.urls().http.replace(/^http/, 'ws') + '/api/v2/rpc';
  const script = opts.cliScript ?? process.argv[1];
  if (script === undefined) throw new Error('cannot find the fleetbench CLI to run the demo');
  const child = fork(script, [DEMO_CHILD_COMMAND], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    if (!stopping) opts.onExit?.(`demo fleet process ended (${signal ?? `exit code ${code}`})`);
  });
  await handOver(child, { type: 'start', url, passwords });
  return {
    pid: child.pid,
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      // Closing the channel is the stop signal (the same the child sees when the hub dies).
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Sends the devices to the child and waits until it runs them (or says why it cannot). */
function handOver(child: ChildProcess, start: StartMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null): void =>
      reject(new Error(`the demo fleet process ended at start (${signal ?? `exit code ${code}`})`));
    child.once('exit', onExit);
    child.once('error', reject);
    child.on('message', (msg: unknown) => {
      if (!isValid(ChildMessage, msg)) return;
      if (msg.type === 'listening') {
        child.send(start);
        return;
      }
      child.off('exit', onExit);
      if (msg.type === 'started') resolve();
      else {
        child.kill('SIGKILL');
        reject(new Error(msg.message));
      }
    });
  });
}

/**
 * The child's side: `fleetbench demo-fleet-child`, hidden, usable only with an IPC channel to
 * the hub that forked it.
 */
export function registerDemoFleetChild(program: Command): void {
  program
    .command(DEMO_CHILD_COMMAND, { hidden: true })
    .description('runs the devices of serve --demo (started by the hub)')
    .action(runDemoChild);
}

async function runDemoChild(): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error(`${DEMO_CHILD_COMMAND} is started by fleetbench serve`);
  const start = await new Promise<StartMessage | null>((resolve) => {
    process.once('disconnect', () => resolve(null));
    process.on('message', (msg: unknown) => {
      if (isValid(StartMessage, msg)) resolve(msg);
    });
    send({ type: 'listening' });
  });
  if (start === null) return; // the hub went away before handing anything over
  const fds = ensureDemoChildFds(start.passwords.length);
  if (fds && !fds.ok) {
    send({ type: 'failed', message: fds.message });
    return;
  }
  let run: SimRun;
  try {
    run = await runSimCommand(
      {
        url: start.url,
        count: start.passwords.length,
        passwords: start.passwords,
        shadowIntervalMs: 10_000,
        logIntervalMs: 15_000,
        dataIntervalMs: DEMO_DATA_INTERVAL_MS,
        rampPerSecond: 200,
        progressIntervalMs: 0,
      },
      () => undefined,
    );
  } catch (err) {
    send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  // The channel closes when the hub stops us or dies: either way the devices go with it.
  const gone = new Promise<void>((resolve) => {
    if (!process.connected) resolve();
    process.once('disconnect', () => resolve());
  });
  send({ type: 'started' });
  await gone;
  await run.stop();
  // Sockets still closing must not keep a process without a hub alive.
  process.exit(0);
}
