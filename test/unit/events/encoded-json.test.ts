import { describe, expect, it } from 'vitest';
import { NotificationBus, type Published } from '../../../src/main/events/notification-bus';
import { jsonOf, withJson } from '../../../src/main/events/encoded-json';

describe('attached JSON text', () => {
  it('is reused by the bus for the text and the log data, identical to JSON.stringify', () => {
    const params = { offset: 2048, data: 'QUJD+/==' };
    const json = `{"offset":2048,"data":"QUJD+/=="}`;
    withJson(params, json);
    expect(jsonOf(params)).toBe(json);
    expect(JSON.parse(json)).toEqual(params);
    const bus = new NotificationBus();
    const got: Published[] = [];
    bus.subscribe((p) => got.push(p));
    const n = { name: 'rpc.in.OTA.Write', id: 'dev"1', data: params };
    bus.publish(n);
    expect(got[0]?.text).toBe(JSON.stringify(n));
    expect(got[0]?.dataJson).toBe(json);
    expect(got[0]?.n.data).toBe(params);
  });

  it('takes the data text from the publisher as an argument, for every subscriber', () => {
    const bus = new NotificationBus();
    const got: Published[] = [];
    bus.subscribe((p) => got.push(p));
    bus.subscribe((p) => got.push(p), { deviceId: 'd' });
    const n = { name: 'updated', id: 'd', data: { id: 'd', online: true } };
    bus.publish(n, '{"id":"d","online":true}');
    expect(got).toHaveLength(2);
    expect(got[0]).toBe(got[1]);
    expect(got[0]?.dataJson).toBe('{"id":"d","online":true}');
    expect(got[0]?.text).toBe(JSON.stringify(n));
    expect(got[0]?.bytes.toString('utf8')).toBe(JSON.stringify(n));
    // Given text wins over encoding: it is what the publisher vouches for.
    bus.publish({ name: 'x', id: 'e', data: [1] }, '[2]');
    expect(got[2]?.text).toBe('{"name":"x","id":"e","data":[2]}');
  });

  it('falls back to JSON.stringify for values without attached text', () => {
    expect(jsonOf({ a: 1 })).toBe('{"a":1}');
    expect(jsonOf(undefined)).toBe('null');
    const bus = new NotificationBus();
    let p: Published | undefined;
    bus.subscribe((x) => (p = x));
    bus.publish({ name: 'x', id: 'd', data: [1, 'two'] });
    expect(p?.text).toBe('{"name":"x","id":"d","data":[1,"two"]}');
    expect(p?.dataJson).toBe('[1,"two"]');
  });

  it('gives every subscriber the same UTF-8 bytes of the text, made once', () => {
    const bus = new NotificationBus();
    const got: Published[] = [];
    bus.subscribe((p) => got.push(p));
    bus.subscribe((p) => got.push(p));
    bus.publish({ name: 'updated', id: 'd', data: { name: 'lämp ✓' } });
    const [a, b] = got;
    expect(a?.bytes.toString('utf8')).toBe(a?.text);
    expect(a?.bytes).toBe(b?.bytes);
  });

  it('builds the text from the data text, identical to JSON.stringify for any key order', () => {
    const bus = new NotificationBus();
    const got: Published[] = [];
    bus.subscribe((p) => got.push(p));
    const cases = [
      { name: 'updated', id: 'd"1', data: { a: [1, 'x'], b: null } },
      { id: 'd', name: 'odd order', data: 1 },
      { name: 'no data', id: 'd' },
    ] as unknown as Parameters<NotificationBus['publish']>[0][];
    for (const n of cases) bus.publish(n);
    got.forEach((p, i) => {
      expect(p.dataJson).toBe(JSON.stringify(cases[i]?.data ?? null));
      expect(p.text).toBe(JSON.stringify(cases[i]));
    });
  });
});
