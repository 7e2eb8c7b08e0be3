/**
 * A latency probe running beside a benchmark's main load: `clients` callers each sending the next
 * call as soon as the previous one is answered, until stopped. Used to compare a REST call's
 * latency with the hub idle and while it is busy (an OTA wave, a backup).
 */
import { LatencyRecorder } from './latency';

export interface ProbeRun {
  /** Latencies of the calls that answered 200. */
  lat: LatencyRecorder;
  /** Calls that answered anything else or failed. */
  errors: number;
}

export interface Probe {
  /** Lets the calls in flight finish, then returns what was recorded. */
  stop(): Promise<ProbeRun>;
}

/** Starts the callers; `call` makes one request and resolves with its HTTP status. */
export function startProbe(clients: number, call: () => Promise<number>): Probe {
  const lat = new LatencyRecorder();
  let errors = 0;
  let running = true;
  const caller = async (): Promise<void> => {
    while (running) {
      const t = performance.now();
      try {
        if ((await call()) === 200) lat.add(performance.now() - t);
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  const all = Promise.all(Array.from({ length: clients }, caller));
  return {
    async stop() {
      running = false;
      await all;
      return { lat, errors };
    },
  };
}
