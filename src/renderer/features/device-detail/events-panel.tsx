/** This device's notifications (PROTOCOL.md 7), newest first. */
import type { ReactNode } from 'react';
import type { DeviceEvent } from '../../stores/device-detail-store';

export function EventsPanel({ events }: { events: DeviceEvent[] }): ReactNode {
  return (
    <section className="card panel panel-events" aria-labelledby="events-title">
      <header className="panel-head">
        <h2 id="events-title">Events</h2>
        <span className="muted small">since this page opened</span>
      </header>
      <ol className="events" data-testid="events">
        {events.length === 0 && <li className="muted">No events yet.</li>}
        {events.map((e) => (
          <li key={e.n} className="event" data-testid="event" data-name={e.name}>
            <time className="muted small mono" dateTime={new Date(e.at).toISOString()}>
              {new Date(e.at).toLocaleTimeString()}
            </time>
            <span className={`event-name event-${e.name.split('.')[0]}`}>{e.name}</span>
            <span className="event-summary mono small">{e.summary}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
