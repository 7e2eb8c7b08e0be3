import { describe, expect, it } from 'vitest';
import { storedLogData } from '../../../src/main/events/stored-log-data';

const full = (data: unknown) => () => JSON.stringify(data);
const parsed = (text: string | null): unknown => JSON.parse(text ?? 'null');

describe('stored log data', () => {
  it('keeps OTA.Write and FS.Put params without their base64 bytes, with their length', () => {
    const ota = { offset: 4096, data: 'QUJD'.repeat(683) };
    expect(
      parsed(storedLogData({ name: 'rpc.in.OTA.Write', id: 'd', data: ota }, full(ota))),
    ).toEqual({
      offset: 4096,
      data_len: 2732,
    });
    const put = { filename: 'a.txt', data: 'aGk=', append: true };
    expect(parsed(storedLogData({ name: 'rpc.in.FS.Put', id: 'd', data: put }, full(put)))).toEqual(
      {
        filename: 'a.txt',
        append: true,
        data_len: 4,
      },
    );
  });

  it("writes the OTA runner's {offset, data} chunk as the generic path would", () => {
    // The generic path's text: JSON of a copy without `data`, plus `data_len`.
    const generic = (d: Record<string, unknown>): string => {
      const kept: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(d)) if (k !== 'data') kept[k] = v;
      return JSON.stringify({ ...kept, data_len: (d['data'] as string).length });
    };
    for (const d of [
      { offset: 0, data: '' },
      { offset: 1_048_576, data: 'QUJD'.repeat(683) },
      { offset: -0, data: 'QQ==' },
      { offset: 1.5, data: 'QQ==' },
      { offset: 2e21, data: 'QQ==' },
      { data: 'QQ==', offset: 7 },
      { offset: '7', data: 'QQ==' },
      { offset: 7, data: 'QQ==', extra: true },
    ]) {
      const n = { name: 'rpc.in.OTA.Write', id: 'd', data: d as never };
      expect(storedLogData(n, full(d)), JSON.stringify(d)).toBe(generic(d));
    }
  });

  it('leaves data rows to the account database', () => {
    for (const name of ['rpc.out.DB.Store', 'rpc.out.DB.Save']) {
      expect(storedLogData({ name, id: 'd', data: ['q', 1] }, full(['q', 1]))).toBeNull();
    }
  });

  it('stores everything else exactly as published', () => {
    for (const [name, data] of [
      ['rpc.out.OTA.Write', { offset: 1, data: 'QQ==' }],
      ['rpc.in.OTA.Write', { offset: 1 }],
      ['rpc.in.OTA.Write', ['not', 'an', 'object']],
      ['rpc.in.FS.Put', null],
      ['ota.progress', { job: 'j', percent: 5 }],
      ['rpc.in.DB.Store', ['q', 1]],
      ['rpc.out.DB.NewData', true],
    ] as const) {
      const n = { name, id: 'd', data: data as never };
      expect(storedLogData(n, full(data))).toBe(JSON.stringify(data));
    }
  });
});
