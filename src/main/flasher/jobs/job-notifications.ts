/**
 * Mirrors flash jobs and serial ports as notifications (PROTOCOL.md 7, "plus ours: flash.*"), so
 * the dashboard and scripts follow a job on /api/v2/notify with no polling:
 *
 *   flash.state        {job, port, state}           every transition (queued -> ... -> done)
 *   flash.progress     {job, port, bytes, total, file?, files?, percent}   at most 10/s per job
 *   flash.done         {job, port, state, result}
 *   flash.failed       {job, port, state}            state = {state:'failed', code, message, hint?}
 *   flash.port.added   PortInfo                      a port appeared (PortWatcher)
 *   flash.port.removed PortInfo
 *
 * Notification `id` is '' (hub-wide), except that flash.done carries the provisioned device's id
 * when there is one, so a device-scoped subscriber sees its own birth.
 */
import type { FlashState } from '../../../shared/flash-state';
import type { Json, Notification } from '../../../shared/types';
import type { PortInfo } from '../serial/port-list';
import type { PortWatcher } from '../serial/port-watch';
import type { FlashJobManager, JobRecord } from './job-manager';
import { ProgressThrottle } from './progress-throttle';

export interface Publisher {
  publish(n: Notification): void;
}

/** Our records are plain JSON-safe data (strings, numbers, booleans, arrays, objects). */
function json(v: unknown): Json {
  return v as Json;
}

export function mirrorJobs(
  manager: FlashJobManager,
  bus: Publisher,
  throttle = new ProgressThrottle(),
): () => void {
  const lastName = new Map<string, string>();
  const onState = (job: JobRecord, state: FlashState): void => {
    const base = { job: job.id, port: job.port };
    if (state.state === 'writing') {
      if (throttle.take(job.id, Date.now(), state.bytes, state.total)) {
        const percent = state.total > 0 ? Math.floor((state.bytes / state.total) * 100) : 0;
        bus.publish({ name: 'flash.progress', id: '', data: json({ ...base, ...state, percent }) });
      }
    }
    if (lastName.get(job.id) === state.state && state.state !== 'provisioning') return;
    lastName.set(job.id, state.state);
    bus.publish({ name: 'flash.state', id: '', data: json({ ...base, state }) });
    if (state.state === 'done') {
      bus.publish({
        name: 'flash.done',
        id: job.result?.deviceId ?? '',
        data: json({ ...base, state, result: job.result ?? null }),
      });
    } else if (state.state === 'failed') {
      bus.publish({ name: 'flash.failed', id: '', data: json({ ...base, state }) });
    }
    if (state.state === 'done' || state.state === 'failed' || state.state === 'cancelled') {
      lastName.delete(job.id);
      throttle.forget(job.id);
    }
  };
  manager.on('state', onState);
  return () => void manager.off('state', onState);
}

export function mirrorPorts(watcher: PortWatcher, bus: Publisher): () => void {
  const added = (p: PortInfo): void =>
    bus.publish({ name: 'flash.port.added', id: '', data: json(p) });
  const removed = (p: PortInfo): void =>
    bus.publish({ name: 'flash.port.removed', id: '', data: json(p) });
  watcher.on('added', added);
  watcher.on('removed', removed);
  return () => {
    watcher.off('added', added);
    watcher.off('removed', removed);
  };
}
