/**
 * The virtual list and the device table rendered to HTML (react-dom/server, no DOM needed): only
 * a window of rows exists however long the list is.
 */
import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { VirtualList } from '../../../src/renderer/components/virtual-list';
import { DeviceTable } from '../../../src/renderer/features/devices/device-table';
import type { DeviceObject } from '../../../src/shared/types';
import { AppProvider } from '../../../src/renderer/app-context';
import { createApp, type App } from '../../../src/renderer/app-controller';
import { sessionKeyStorage } from '../../../src/renderer/api/browser';

const count = (html: string, needle: string): number => html.split(needle).length - 1;

function device(i: number): DeviceObject {
  return {
    id: `dev-${i}`,
    name: `sensor <${i}>`,
    token: 'secret-token',
    online: i % 2 === 0,
    shadow: {
      state: { desired: {}, reported: { ota: { fw_version: `1.${i}` } }, delta: {} },
      tags: {},
      version: 1,
      timestamp: 0,
    },
    acl: {},
    created: 0,
    last_seen: 0,
  };
}

describe('VirtualList', () => {
  it('renders a small window of a 10,000-row list, with full scroll height', () => {
    const items = Array.from({ length: 10_000 }, (_, i) => i);
    const html = renderToStaticMarkup(
      <VirtualList
        items={items}
        rowHeight={40}
        getKey={(i) => String(i)}
        renderRow={(i) => <span>row {i}</span>}
        ariaLabel="rows"
      />,
    );
    const rows = count(html, 'role="row"');
    expect(rows).toBeGreaterThan(5);
    expect(rows).toBeLessThan(40);
    expect(html).toContain('height:400000px');
    expect(html).toContain('row 0');
    expect(html).not.toContain('row 9999');
    // Exactly one row is in the tab order (roving focus).
    expect(count(html, 'tabindex="0"')).toBe(1);
  });

  it('shows the empty state for no items', () => {
    const html = renderToStaticMarkup(
      <VirtualList
        items={[]}
        rowHeight={40}
        getKey={String}
        renderRow={() => null}
        ariaLabel="rows"
        empty={<p>nothing here</p>}
      />,
    );
    expect(html).toContain('nothing here');
    expect(count(html, 'role="row"')).toBe(0);
  });
});

describe('DeviceTable', () => {
  const props = {
    total: 0,
    sort: { key: 'id' as const, dir: 'asc' as const },
    now: 0,
    deleting: null,
    onSort: () => {},
    onOpen: () => {},
    onDelete: () => {},
  };

  /** An app that never starts (no hub): its devices store holds the rows' data. */
  function appWith(devices: DeviceObject[]): App {
    const app = createApp({
      origin: 'http://127.0.0.1:9',
      addressBar: {
        hash: () => '',
        replaceHash: () => {},
        pushHash: () => {},
        onHashChange: () => () => {},
      },
      storage: sessionKeyStorage(null),
      desktop: null,
      createSocket: () => {
        throw new Error('no sockets here');
      },
    });
    app.devices.getState().replaceAll(devices);
    return app;
  }

  function render(app: App, ids: readonly string[], total = ids.length): string {
    // Server rendering reads a store's initial state (zustand's server snapshot): point it at
    // the current one, as a browser render would see it.
    app.devices.getInitialState = app.devices.getState;
    app.connection.getInitialState = app.connection.getState;
    return renderToStaticMarkup(
      <AppProvider app={app}>
        <DeviceTable {...props} ids={ids} total={total} />
      </AppProvider>,
    );
  }

  it('renders rows with status, escaped names and firmware, and never the token', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => device(i));
    const app = appWith(rows);
    const html = render(app, app.devices.getState().visibleIds);
    expect(count(html, 'data-testid="device-row"')).toBeLessThan(40);
    expect(html).toContain('data-device-id="dev-0"');
    expect(html).toContain('data-online="true"');
    expect(html).toContain('sensor &lt;0&gt;');
    expect(html).toContain('1.0');
    expect(html).not.toContain('secret-token');
    expect(html).toContain('aria-sort="ascending"');
    expect(html).toContain('aria-rowcount="5001"');
    // A row is announced by its name and status cells.
    expect(html).toContain('aria-labelledby="row-name-dev-0 row-status-dev-0"');
    app.dispose();
  });

  it('greys the status while the hub is not reachable', () => {
    const app = appWith([device(0)]);
    app.connection.getState().setStatus({ state: 'reconnecting', attempt: 1, retryAt: 0 });
    const html = render(app, ['dev-0']);
    expect(html).toContain('data-stale="true"');
    expect(html).toContain('dot-stale');
    expect(html).toContain('online when last heard');
    expect(html).not.toContain('>now<');
    app.dispose();
  });

  it('tells an empty hub from an empty search', () => {
    const app = appWith([]);
    expect(render(app, [], 0)).toContain('No devices yet');
    expect(render(app, [], 3)).toContain('No devices match');
    app.dispose();
  });
});
