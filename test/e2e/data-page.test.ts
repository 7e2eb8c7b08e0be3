/**
 * The Data page and the device Data tab end to end: a real hub on port 0 serving a fresh build of
 * src/renderer, a simulated device storing rows with `DB.Save`, and headless Chromium doing what
 * a person would: run queries (Ctrl+Enter), see a coded error inline, pick a past query from the
 * history, export CSV and JSON and download the database (contents checked), chart a time series
 * of 100k points within a few seconds, and on the device page read its latest rows and chart,
 * edit its ACL `data_read` / `data_write` and run the preview.
 *
 * Set FLEETBENCH_E2E_SHOTS=<dir> to keep the screenshots for a look.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Download, Page } from 'playwright-core';
import type { Hub } from '../../src/main/hub';
import { SimDevice } from '../../src/main/sim/sim-device';
import type { DeviceObject } from '../../src/shared/types';
import { CHROMIUM, e2eDirs, haveChromium, startE2eHub } from '../support/e2e-harness';
import { closeE2e, keyLink, openE2ePage, restCall } from '../support/e2e-page';

if (!haveChromium) console.warn(`data page e2e skipped: ${CHROMIUM} is missing`);

interface SqlAnswer {
  columns: string[];
  rows: unknown[][];
  truncated?: boolean;
}

describe.skipIf(!haveChromium)('data page e2e (Chromium, real hub, simulated device)', () => {
  let tmp: string;
  let shots: string;
  let hub: Hub;
  let http: string;
  let dashboard: string;
  let key: string;
  let browser: Browser;
  let page: Page;
  let sim: SimDevice | null = null;
  const pageErrors: string[] = [];
  const DEVICE = 'sensor-1';

  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const r = await restCall<T>(http, key, method, path, body);
    if (r.status >= 300)
      throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const sql = (query: string, params?: unknown[]): Promise<SqlAnswer> =>
    api<SqlAnswer>('POST', '/sql/exec', params ? { query, params } : { query });

  /** Types `query` in the editor and runs it with Ctrl+Enter. */
  async function runQuery(query: string): Promise<void> {
    const editor = page.getByTestId('sql-editor');
    await editor.fill(query);
    await editor.press('Control+Enter');
  }
  async function download(testId: string): Promise<{ dl: Download; text: Buffer }> {
    const [dl] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId(testId).click(),
    ]);
    const path = await dl.path();
    return { dl, text: readFileSync(path) };
  }

  beforeAll(async () => {
    ({ tmp, shots } = e2eDirs('fb-e2e-data-'));
    ({ hub, http, dashboard, key } = await startE2eHub(tmp));
    const created = await api<DeviceObject>('POST', '/devices', { id: DEVICE });
    // An ACL with other fields: saving the data queries must keep them.
    await api('POST', `/devices/${DEVICE}`, { acl: { rpc: ['Sys.*'], shadow_read: ['^.state'] } });
    sim = new SimDevice({
      url: `${http.replace(/^http/, 'ws')}/api/v2/rpc`,
      password: created.token,
      id: DEVICE,
      reconnect: { initialMs: 50, maxMs: 200 },
    });
    sim.start();
    for (let i = 0; i < 100; i++) {
      if ((await api<DeviceObject>('GET', `/devices/${DEVICE}`)).online) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // Rows the device stores itself (PROTOCOL.md 2 DB.Save)...
    for (const row of [
      { temp: 21.5, humidity: 44 },
      { temp: 22, humidity: 45 },
      { temp: 22.5, humidity: 43 },
    ])
      await sim.call('DB.Save', row);
    // ... and two hours of history before them, one row a minute.
    await sql(
      `INSERT INTO data (timestamp, device_id, topic, message)
       WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 119)
       SELECT datetime('now', '-3 hours', '+' || i || ' minutes'), ?, 'data',
              json_object('temp', 19 + (i % 24) * 0.25, 'humidity', 40 + (i % 9))
       FROM s`,
      [DEVICE],
    );
    ({ browser, page } = await openE2ePage(
      { viewport: { width: 1280, height: 900 }, defaultTimeoutMs: 8000 },
      pageErrors,
    ));
  });

  afterAll(async () => {
    await sim?.stop();
    await closeE2e({ browser, hub, tmp });
  });

  it('runs a query with Ctrl+Enter from the Data page and shows the rows', async () => {
    await page.goto(keyLink(dashboard, key));
    await page.getByTestId('nav-data').click();
    await page.getByTestId('data-page').waitFor();
    expect(page.url()).toContain('#/data');
    await runQuery(
      `SELECT device_id, topic, message FROM data WHERE device_id='${DEVICE}' AND topic='data' ORDER BY timestamp DESC, rowid DESC LIMIT 5`,
    );
    const table = page.locator('[data-testid=sql-result][data-rows="5"]');
    await table.waitFor();
    const first = table.locator('[role=row][aria-rowindex="2"]');
    expect(await first.textContent()).toContain('{"temp":22.5,"humidity":43}');
    expect(await page.getByTestId('sql-status').textContent()).toMatch(/^5 rows/);
    expect(await page.getByTestId('sql-truncated').count()).toBe(0);
    await page.screenshot({ path: join(shots, 'data-query.png') });
  });

  it('shows a failed query inline with the hub code, and the history brings queries back', async () => {
    await runQuery('SELECT * FROM no_such_table');
    const err = page.getByTestId('sql-error');
    await err.waitFor();
    expect(Number(await err.getAttribute('data-code'))).toBeGreaterThan(0);
    expect(await err.textContent()).toContain('no such table');
    await page.screenshot({ path: join(shots, 'data-error.png') });

    // Newest first: the failed one, then the first query.
    const options = await page.getByTestId('sql-history').locator('option').allTextContents();
    expect(options[1]).toBe('SELECT * FROM no_such_table');
    expect(options[2]).toContain(`WHERE device_id='${DEVICE}'`);
    const past = await page
      .getByTestId('sql-history')
      .locator('option')
      .nth(2)
      .getAttribute('value');
    await page.getByTestId('sql-history').selectOption(past ?? '');
    expect(await page.getByTestId('sql-editor').inputValue()).toBe(past);
    // The history outlives a reload (localStorage).
    await page.reload();
    await page.getByTestId('data-page').waitFor();
    const after = await page.getByTestId('sql-history').locator('option').allTextContents();
    expect(after[1]).toBe('SELECT * FROM no_such_table');
    await page.getByTestId('sql-history').selectOption(past ?? '');
    await page.getByTestId('sql-run').click();
    await page.locator('[data-testid=sql-result][data-rows="5"]').waitFor();
    expect(await page.getByTestId('sql-error').count()).toBe(0);
  });

  it('exports the result as CSV and JSON', async () => {
    const csv = await download('sql-export-csv');
    expect(csv.dl.suggestedFilename()).toMatch(/^query-.*\.csv$/);
    const lines = csv.text.toString('utf8').split('\r\n');
    expect(lines[0]).toBe('device_id,topic,message');
    expect(lines[1]).toBe(`${DEVICE},data,"{""temp"":22.5,""humidity"":43}"`);
    expect(lines).toHaveLength(7); // header, 5 rows, the final line end

    const json = await download('sql-export-json');
    expect(json.dl.suggestedFilename()).toMatch(/^query-.*\.json$/);
    const rows = JSON.parse(json.text.toString('utf8')) as Record<string, unknown>[];
    expect(rows).toHaveLength(5);
    expect(rows[0]).toEqual({
      device_id: DEVICE,
      topic: 'data',
      message: '{"temp":22.5,"humidity":43}',
    });
  });

  it('downloads the whole database as a SQLite file', async () => {
    const db = await download('data-download-db');
    expect(db.text.subarray(0, 16).toString('latin1')).toBe('SQLite format 3\u0000');
    const file = join(tmp, 'downloaded.db');
    await db.dl.saveAs(file);
    const copy = new Database(file, { readonly: true });
    try {
      const row = copy
        .prepare("SELECT COUNT(*) AS n FROM data WHERE device_id = ? AND topic = 'data'")
        .get(DEVICE) as { n: number };
      expect(row.n).toBe(123);
    } finally {
      copy.close();
    }
  });

  it('charts a 100k-point time series within a few seconds and stays responsive', async () => {
    // 100,005 rows: the hub cuts at its 100,000-row cap and says `truncated`.
    const started = Date.now();
    await runQuery(
      `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 100004)
SELECT 1800000000 + i * 60 AS t, abs(i % 20000 - 10000) / 100.0 AS level, (i / 2500) % 7 * 10 + (i % 13) AS count FROM s`,
    );
    // The draw hook marks the chart's root once uPlot has drawn this many points.
    const chart = page.locator('[data-testid=sql-chart] .uplot[data-points="100000"]');
    await chart.waitFor({ timeout: 15_000 });
    const elapsed = Date.now() - started;
    expect(await page.getByTestId('sql-truncated').isVisible()).toBe(true);
    console.log(`uPlot's own first draw: ${await chart.getAttribute('data-drawn-ms')} ms`);
    expect(await page.getByTestId('sql-chart').getAttribute('data-series')).toBe('level,count');
    // Query, transfer, parse and first draw of 100k points: a few seconds at most on 2 cores.
    expect(elapsed).toBeLessThan(8000);
    // Responsive: a frame comes within a blink, and the table scrolls to the end.
    const frameMs = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const t0 = performance.now();
          requestAnimationFrame(() => resolve(performance.now() - t0));
        }),
    );
    expect(frameMs).toBeLessThan(500);
    await page
      .getByTestId('sql-result')
      .locator('.vlist')
      .evaluate((el) => {
        el.scrollTop = el.scrollHeight;
      });
    await page.locator('[data-testid=sql-result] [role=row][aria-rowindex="100001"]').waitFor();
    console.log(`100k-point chart: ${elapsed} ms from Ctrl+Enter to drawn, frame ${frameMs} ms`);
    await page.screenshot({ path: join(shots, 'data-chart-100k.png') });
  });

  it('charts the numbers of a JSON message through json_extract', async () => {
    await runQuery(
      `SELECT timestamp, json_extract(message,'$.temp') AS temp, json_extract(message,'$.humidity') AS humidity FROM data WHERE device_id='${DEVICE}' AND topic='data' ORDER BY timestamp`,
    );
    await page.locator('[data-testid=sql-chart][data-series="temp,humidity"]').waitFor();
    await page.locator('[data-testid=sql-chart][data-points="123"] .uplot').waitFor();
    // A new result starts at its first row, even after the last one was scrolled to its end.
    await page.locator('[data-testid=sql-result] [role=row][aria-rowindex="2"]').waitFor();
    await page.screenshot({ path: join(shots, 'data-chart-json.png') });
  });

  it('the device Data tab shows the latest rows and a chart', async () => {
    await page.goto(`${dashboard}#/devices/${DEVICE}`);
    await page.getByTestId('device-tab-data').click();
    const rows = page.locator('[data-testid=device-data-rows][data-rows="100"]');
    await rows.waitFor();
    const chart = page.getByTestId('device-data-chart');
    await chart.locator('.uplot').waitFor();
    expect(await chart.getAttribute('data-series')).toBe('message.temp,message.humidity');
    // Newest first in the table: the device's own last DB.Save.
    expect(await rows.locator('[role=row][aria-rowindex="2"]').textContent()).toContain(
      '"temp":22.5',
    );
    await page.screenshot({ path: join(shots, 'device-data-tab.png'), fullPage: true });
  });

  it('edits the ACL data queries, keeping the other fields, and previews them', async () => {
    // data_read: a name and a query with a ? parameter.
    await page.getByTestId('acl-add-data_read').click();
    // Locators are lazy: name each entry by its position, not by `last()`.
    const read = page.getByTestId('acl-data_read-entry').nth(0);
    await read.getByTestId('acl-name').fill('warm');
    await read
      .getByTestId('acl-query')
      .fill(
        "SELECT timestamp, json_extract(message,'$.temp') AS temp FROM data WHERE device_id='DEVICE_ID' AND json_extract(message,'$.temp') >= ? ORDER BY timestamp",
      );
    // data_write: one that compiles, one that does not.
    await page.getByTestId('acl-add-data_write').click();
    const write = page.getByTestId('acl-data_write-entry').nth(0);
    await write.getByTestId('acl-name').fill('log');
    await write
      .getByTestId('acl-query')
      .fill(
        "INSERT INTO data (timestamp, device_id, topic, message) VALUES (?, 'DEVICE_ID', ?, ?)",
      );
    await page.getByTestId('acl-add-data_write').click();
    const broken = page.getByTestId('acl-data_write-entry').nth(1);
    await broken.getByTestId('acl-name').fill('broken');
    await broken.getByTestId('acl-query').fill('INSERT INTO nowhere VALUES (?)');
    // Unsaved: the hub runs the saved query, so Run waits for Save.
    expect(await read.getByTestId('acl-run').isDisabled()).toBe(true);
    await page.getByTestId('acl-save').click();
    // Saved: nothing left to save (while the call runs the button is disabled too, as "Saving…").
    await page.locator('[data-testid=acl-save]:disabled', { hasText: /^Save ACL$/ }).waitFor();
    expect(await page.getByTestId('acl-save-error').count()).toBe(0);

    const stored = (await api<DeviceObject>('GET', `/devices/${DEVICE}`)).acl;
    // public_key is the one the device reported (Sys.GetInfo): kept as it was.
    expect(typeof stored.public_key).toBe('string');
    expect(stored).toEqual({
      public_key: stored.public_key,
      rpc: ['Sys.*'],
      shadow_read: ['^.state'],
      data_read: {
        warm: "SELECT timestamp, json_extract(message,'$.temp') AS temp FROM data WHERE device_id='DEVICE_ID' AND json_extract(message,'$.temp') >= ? ORDER BY timestamp",
      },
      data_write: {
        log: "INSERT INTO data (timestamp, device_id, topic, message) VALUES (?, 'DEVICE_ID', ?, ?)",
        broken: 'INSERT INTO nowhere VALUES (?)',
      },
    });

    // Run the read query with a parameter: the rows it gives, through /devices/:id/data/warm.
    const expected = await api<SqlAnswer>('POST', `/devices/${DEVICE}/data/warm`, {
      params: [24],
    });
    expect(expected.rows.length).toBeGreaterThan(0);
    await page.getByTestId('acl-params').fill('[24]');
    await read.getByTestId('acl-run').click();
    await page
      .locator(
        `[data-testid=acl-preview][data-kind=data_read] [data-testid=acl-preview-rows][data-rows="${expected.rows.length}"]`,
      )
      .waitFor();
    await page
      .getByTestId('acl-data-panel')
      .screenshot({ path: join(shots, 'device-acl-read.png') });

    // Check the write query: shown with the id in place, compiled by EXPLAIN, nothing written.
    const before = (await sql('SELECT COUNT(*) FROM data')).rows[0]?.[0];
    await write.getByTestId('acl-run').click();
    await page.getByTestId('acl-preview-ok').waitFor();
    expect(await page.getByTestId('acl-preview-query').textContent()).toBe(
      `INSERT INTO data (timestamp, device_id, topic, message) VALUES (?, '${DEVICE}', ?, ?)`,
    );
    expect((await sql('SELECT COUNT(*) FROM data')).rows[0]?.[0]).toBe(before);
    await page
      .getByTestId('acl-data-panel')
      .screenshot({ path: join(shots, 'device-acl-write.png') });

    await broken.getByTestId('acl-run').click();
    const err = page.getByTestId('acl-preview-error');
    await err.waitFor();
    expect(await err.textContent()).toContain('no such table');
    expect(pageErrors).toEqual([]);
  });
});
