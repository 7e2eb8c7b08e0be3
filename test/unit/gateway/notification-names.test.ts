/** rpc.in / rpc.out names made once per method, in bounded tables (notification-names.ts). */
import { describe, expect, it } from 'vitest';
import { rpcInName, rpcOutName } from '../../../src/main/gateway/notification-names';

describe('notification names', () => {
  it('are PROTOCOL.md 7 names, the same string for the same method', () => {
    expect(rpcInName('Sys.GetInfo')).toBe('rpc.in.Sys.GetInfo');
    expect(rpcOutName('Dash.Heartbeat')).toBe('rpc.out.Dash.Heartbeat');
    const a = rpcInName('Shadow.Delta');
    expect(rpcInName('Shadow.Delta')).toBe(a);
  });

  it('stay right however many methods and however long', () => {
    for (let i = 0; i < 2000; i++) expect(rpcInName(`M.${i}`)).toBe(`rpc.in.M.${i}`);
    const long = 'X'.repeat(8000);
    expect(rpcOutName(long)).toBe(`rpc.out.${long}`);
    expect(rpcInName('Sys.GetInfo')).toBe('rpc.in.Sys.GetInfo');
  });
});
