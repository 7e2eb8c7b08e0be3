/**
 * The fan-out side of the shadow benchmark, a separate process (forked with an IPC channel by
 * shadow-throughput.ts): N subscribers of `/api/v2/notify` (PROTOCOL.md 7), as N open dashboards.
 * Each counts what it receives by name and, on a sample of the `updated` notifications, the lag
 * from the moment the device sent the update (`reported.t_ms`, wall clock, same machine) to the
 * moment it arrived.
 */
import Type from 'typebox';
import { isValid } from '../src/main/validate';
import { LatencyRecorder } from './latency';
import {
  notificationName,
  openNotifyStream,
  parseNotification,
  type NotifyStream,
} from './notify-stream';
import { isMain } from './bench-main';

export const FanoutCommand = Type.Union([
  Type.Object({
    type: Type.Literal('open'),
    wsBase: Type.String(),
    key: Type.String(),
    subscribers: Type.Integer({ minimum: 1 }),
  }),
  Type.Object({ type: Type.Literal('start') }),
  Type.Object({ type: Type.Literal('stop') }),
]);
export type FanoutCommand = Type.Static<typeof FanoutCommand>;

export const SubscriberStats = Type.Object({
  frames: Type.Integer(),
  updated: Type.Integer(),
  /** Close code if the hub dropped this subscriber (1013 = too slow), else null. */
  closedCode: Type.Union([Type.Integer(), Type.Null()]),
  lagP50: Type.Number(),
  lagP99: Type.Number(),
  lagMax: Type.Number(),
});
export type SubscriberStats = Type.Static<typeof SubscriberStats>;

export const FanoutReport = Type.Union([
  Type.Object({ type: Type.Literal('opened'), subscribers: Type.Integer() }),
  Type.Object({ type: Type.Literal('started') }),
  Type.Object({
    type: Type.Literal('stats'),
    spanMs: Type.Number(),
    subscribers: Type.Array(SubscriberStats),
  }),
  Type.Object({ type: Type.Literal('error'), message: Type.String() }),
]);
export type FanoutReport = Type.Static<typeof FanoutReport>;

const UpdatedData = Type.Object({
  shadow: Type.Object({
    state: Type.Object({ reported: Type.Object({ t_ms: Type.Number() }) }),
  }),
});

const LAG_SAMPLE_EVERY = 8;

class Subscriber {
  frames = 0;
  updated = 0;
  closedCode: number | null = null;
  lag = new LatencyRecorder();
  counting = false;
  stream: NotifyStream | null = null;

  onText(text: string, receivedAt: number): void {
    if (!this.counting) return;
    this.frames++;
    if (notificationName(text) !== 'updated') return;
    this.updated++;
    // Parsing every frame would make this process, not the hub, the bottleneck on two cores:
    // the lag is sampled on one `updated` frame in LAG_SAMPLE_EVERY.
    if ((this.updated - 1) % LAG_SAMPLE_EVERY !== 0) return;
    const n = parseNotification(text);
    if (!n || !isValid(UpdatedData, n.data)) return;
    this.lag.add(receivedAt - n.data.shadow.state.reported.t_ms);
  }

  reset(): void {
    this.frames = 0;
    this.updated = 0;
    this.lag = new LatencyRecorder();
    this.counting = true;
  }

  stats(): SubscriberStats {
    const s = this.lag.summary();
    return {
      frames: this.frames,
      updated: this.updated,
      closedCode: this.closedCode,
      lagP50: s.p50,
      lagP99: s.p99,
      lagMax: s.max,
    };
  }
}

function main(): void {
  const send = (r: FanoutReport): void => void process.send?.(r);
  const subs: Subscriber[] = [];
  let startedAt = 0;
  process.on('message', (msg: unknown) => {
    if (!isValid(FanoutCommand, msg)) {
      send({ type: 'error', message: 'unknown command' });
      return;
    }
    if (msg.type === 'open') {
      const opening = Array.from({ length: msg.subscribers }, async () => {
        const sub = new Subscriber();
        sub.stream = await openNotifyStream(msg.wsBase, msg.key, (t, at) => sub.onText(t, at));
        void sub.stream.closed.then((code) => (sub.closedCode = code));
        subs.push(sub);
      });
      Promise.all(opening).then(
        () => send({ type: 'opened', subscribers: subs.length }),
        (e: unknown) => send({ type: 'error', message: String(e) }),
      );
    } else if (msg.type === 'start') {
      for (const s of subs) s.reset();
      startedAt = performance.now();
      send({ type: 'started' });
    } else {
      for (const s of subs) s.counting = false;
      send({
        type: 'stats',
        spanMs: performance.now() - startedAt,
        subscribers: subs.map((s) => s.stats()),
      });
    }
  });
  process.on('disconnect', () => {
    for (const s of subs) s.stream?.ws.terminate();
    process.exit(0);
  });
}

if (isMain(import.meta.url)) main();
