import { describe, expect, it } from 'vitest';
import { provisionTemplate } from '../../../../src/main/flasher/provision/template-provision';
import type { FlashState } from '../../../../src/shared/flash-state';
import { ptyPairFor, useCleanups } from '../../../support/cleanups';
import { flashErrorOf } from '../../../support/provision-harness';
import { closePeerPort, openPeerPort } from '../../../support/pty-peer';

const cleanups = useCleanups();

/** A device console on the pty that records lines and answers each with `answer(line)`. */
async function linePeer(answer: (line: string) => string | null) {
  const pair = await ptyPairFor(cleanups);
  const port = await openPeerPort(pair.a);
  cleanups.push(() => closePeerPort(port));
  const lines: string[] = [];
  let buf = '';
  port.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i + 1);
      buf = buf.slice(i + 1);
      lines.push(line);
      const a = answer(line);
      if (a !== null) setTimeout(() => port.write(a), 20);
    }
  });
  return { path: pair.b, lines };
}

const vars = {
  id: 'dev-42',
  password: 'pw-SECRET',
  server: 'ws://10.0.0.2:8009/api/v2/rpc',
  wifi_ssid: 'Net',
  wifi_pass: 'wifi-SECRET',
  name: 'Bench 1',
};
const template =
  'set device.id {id}\\nset device.pass {password}\\nset mdash.url {server}\\nwifi {wifi_ssid} {wifi_pass}\\nsave\\n';

describe('provisionTemplate against a line-recording peer', () => {
  it('writes each rendered line and waits for the expected answer', async () => {
    const peer = await linePeer((l) => (l.startsWith('save') ? 'saved, rebooting\r\n' : 'OK\r\n'));
    const states: FlashState[] = [];
    const r = await provisionTemplate(
      { path: peer.path, template, vars, expect: '^(OK|saved)', lineTimeoutMs: 2000 },
      (s) => states.push(s),
    );
    expect(peer.lines).toEqual([
      'set device.id dev-42\n',
      'set device.pass pw-SECRET\n',
      'set mdash.url ws://10.0.0.2:8009/api/v2/rpc\n',
      'wifi Net wifi-SECRET\n',
      'save\n',
    ]);
    expect(r.linesSent).toBe(5);
    expect(r.transcript).toMatch(/saved, rebooting/);
    const steps = states.map((s) => (s.state === 'provisioning' ? s.step : s.state));
    expect(steps).toEqual([
      `opening ${peer.path}`,
      'sending line 1 of 5',
      'sending line 2 of 5',
      'sending line 3 of 5',
      'sending line 4 of 5',
      'sending line 5 of 5',
    ]);
    expect(JSON.stringify(states)).not.toMatch(/SECRET/);
  });

  it('sends all lines without expect', async () => {
    const peer = await linePeer(() => null);
    await provisionTemplate({ path: peer.path, template: 'a {id}\\nb\\n', vars, lineDelayMs: 5 });
    await new Promise((r) => setTimeout(r, 100));
    expect(peer.lines).toEqual(['a dev-42\n', 'b\n']);
  });

  it('fails on the line the device does not acknowledge, showing its answer', async () => {
    const peer = await linePeer((l) => (l.includes('pass') ? 'ERR unknown key\r\n' : 'OK\r\n'));
    const e = await flashErrorOf(
      provisionTemplate({
        path: peer.path,
        template,
        vars,
        expect: 'OK',
        expectLiteral: true,
        lineTimeoutMs: 400,
      }),
    );
    expect(e.code).toBe('provision_failed');
    expect(e.message).toMatch(/line 2 of 5/);
    expect(e.hint).toMatch(/ERR unknown key/);
    expect(peer.lines).toHaveLength(2);
  });

  it('stops an evil expect pattern instead of hanging', async () => {
    const peer = await linePeer(() => 'a'.repeat(30) + '!\r\n');
    const t0 = Date.now();
    const e = await flashErrorOf(
      provisionTemplate({
        path: peer.path,
        template: 'x\\n',
        vars,
        expect: '^(a+)+$',
        lineTimeoutMs: 3000,
      }),
    );
    expect(e.message).toMatch(/took longer/);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('rejects a bad template before writing anything', async () => {
    const peer = await linePeer(() => 'OK\r\n');
    const e = await flashErrorOf(
      provisionTemplate({ path: peer.path, template: 'set {token}\\n', vars }),
    );
    expect(e.code).toBe('provision_failed');
    expect(e.message).toMatch(/unknown placeholder \{token\}; known placeholders: \{id\}/);
    const e2 = await flashErrorOf(
      provisionTemplate({ path: peer.path, template: 'x\\n', vars, expect: '(' }),
    );
    expect(e2.message).toMatch(/not a valid regular expression/);
    const e3 = await flashErrorOf(
      provisionTemplate({ path: peer.path, template: 'x', vars: { token: 'x' } }),
    );
    expect(e3.message).toMatch(/invalid provisioning options/);
    await new Promise((r) => setTimeout(r, 50));
    expect(peer.lines).toEqual([]);
  });
});
