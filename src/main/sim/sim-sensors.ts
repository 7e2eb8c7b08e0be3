/**
 * Believable readings for a simulated device's stored data (issue 9: "make their data realistic
 * enough that the demo fleet's Data page shows real charts"): a room temperature that follows a
 * slow daily cycle plus a random walk plus sensor noise, a relative humidity that moves against it,
 * and a monotonic counter. Pure: a seeded PRNG and the time passed in, so a seed repeats exactly.
 */
import type { Json } from '../../shared/types';
import type { Prng } from './prng';

/** The ACL query name the simulated devices store their readings under. */
export const SIM_DATA_QUERY = 'telemetry';

/**
 * The `data_write` query that goes with it (the demo fleet puts it in each device's ACL): the
 * device sends `[timestamp, temperature, humidity, counter]`, and the row keeps the time the
 * reading was taken even when it reaches the hub later, from the spool.
 */
export const SIM_DATA_WRITE =
  "INSERT INTO data (timestamp, device_id, topic, message) VALUES (?, 'DEVICE_ID', 'telemetry', " +
  "json_object('temperature', ?, 'humidity', ?, 'counter', ?))";

const DAY_MS = 24 * 3600 * 1000;

export interface SensorReading {
  temperature: number;
  humidity: number;
  counter: number;
}

export class SimSensors {
  private readonly base: number;
  private readonly phase: number;
  private walk = 0;
  private counter = 0;

  constructor(private readonly prng: Prng) {
    this.base = 19 + prng.next() * 5; // each room its own mean, 19..24 °C
    this.phase = prng.next() * DAY_MS;
  }

  read(nowMs: number): SensorReading {
    const day = Math.sin(((nowMs + this.phase) / DAY_MS) * 2 * Math.PI) * 2.5;
    // A bounded random walk: drifts over minutes, pulled back towards the mean.
    this.walk = this.walk * 0.98 + (this.prng.next() - 0.5) * 0.3;
    const noise = (this.prng.next() - 0.5) * 0.2;
    const temperature = this.base + day + this.walk + noise;
    const humidity = Math.min(
      95,
      Math.max(15, 50 - (temperature - this.base) * 3 + (this.prng.next() - 0.5) * 1.5),
    );
    this.counter++;
    return {
      temperature: Math.round(temperature * 100) / 100,
      humidity: Math.round(humidity * 10) / 10,
      counter: this.counter,
    };
  }
}

/** The `DB.Store` / spool parameters of one reading: `[timestamp, temperature, humidity, counter]`. */
export function readingParams(nowMs: number, r: SensorReading): Json[] {
  const ts = new Date(nowMs).toISOString().slice(0, 19).replace('T', ' ');
  return [ts, r.temperature, r.humidity, r.counter];
}
