import { describe, expect, it } from 'vitest';
import {
  TEMPLATE_PLACEHOLDERS,
  compileExpect,
  renderTemplate,
  splitTemplateLines,
} from '../../../../src/main/flasher/provision/template-provision';
import { HubError } from '../../../../src/shared/errors';

const vars = {
  id: 'dev-1',
  password: 'p@ss',
  server: 'ws://10.0.0.2:8009/api/v2/rpc',
  wifi_ssid: 'Net',
  wifi_pass: 'secret123',
  name: 'Kitchen',
};

function errorOf(fn: () => unknown): HubError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HubError);
    return e as HubError;
  }
  throw new Error('expected a throw');
}

describe('renderTemplate', () => {
  it('substitutes every documented placeholder', () => {
    const t = Object.keys(TEMPLATE_PLACEHOLDERS)
      .map((k) => `${k}={${k}}`)
      .join(';');
    expect(renderTemplate(t, vars)).toBe(
      'id=dev-1;password=p@ss;server=ws://10.0.0.2:8009/api/v2/rpc;wifi_ssid=Net;wifi_pass=secret123;name=Kitchen',
    );
  });

  it('handles escapes and literal braces', () => {
    expect(renderTemplate('set device.pass {password}\\n', vars)).toBe('set device.pass p@ss\n');
    expect(renderTemplate('a\\tb\\r\\n\\\\', vars)).toBe('a\tb\r\n\\');
    expect(renderTemplate('json {{"id":"{id}"}}\\n', vars)).toBe('json {"id":"dev-1"}\n');
  });

  it('does not re-expand placeholders inside values', () => {
    expect(renderTemplate('{name}', { name: '{password}' })).toBe('{password}');
  });

  it('names an unknown placeholder and lists the known ones', () => {
    const e = errorOf(() => renderTemplate('set x {token}\\n', vars));
    expect(e.kind).toBe('validation_failed');
    expect(e.message).toContain('{token}');
    for (const k of Object.keys(TEMPLATE_PLACEHOLDERS)) expect(e.message).toContain(`{${k}}`);
  });

  it('rejects missing values, bad braces and unknown escapes', () => {
    expect(errorOf(() => renderTemplate('{wifi_ssid}', { id: 'x' })).message).toMatch(/no value/);
    expect(errorOf(() => renderTemplate('set {id', vars)).message).toMatch(/unclosed/);
    expect(errorOf(() => renderTemplate('set id}', vars)).message).toMatch(/unmatched/);
    expect(errorOf(() => renderTemplate('bad \\x', vars)).message).toMatch(/unknown escape/);
    expect(errorOf(() => renderTemplate('end\\', vars)).message).toMatch(/unknown escape/);
    expect(errorOf(() => renderTemplate('x'.repeat(9000), vars)).message).toMatch(/longer/);
  });
});

describe('splitTemplateLines', () => {
  it('keeps the newline on each line and a trailing partial', () => {
    expect(splitTemplateLines('a\nb\nc')).toEqual(['a\n', 'b\n', 'c']);
    expect(splitTemplateLines('a\n')).toEqual(['a\n']);
    expect(splitTemplateLines('')).toEqual([]);
  });
});

describe('compileExpect', () => {
  it('matches regexes and literals', () => {
    expect(compileExpect('^OK\\b', false).test('OK saved')).toBe(true);
    expect(compileExpect('OK$').test('FAIL')).toBe(false);
    expect(compileExpect('a+b', true).test('xx a+b yy')).toBe(true);
    expect(compileExpect('a+b', true).test('aab')).toBe(false);
  });

  it('rejects invalid and overlong patterns', () => {
    expect(errorOf(() => compileExpect('(unclosed')).message).toMatch(
      /not a valid regular expression/,
    );
    expect(errorOf(() => compileExpect('x'.repeat(300))).message).toMatch(/longer/);
    expect(errorOf(() => compileExpect('')).kind).toBe('validation_failed');
  });

  it('stops a catastrophic-backtracking pattern within its budget', () => {
    const m = compileExpect('^(a+)+$');
    const t0 = Date.now();
    const e = errorOf(() => m.test('a'.repeat(40) + '!'));
    expect(e.message).toMatch(/took longer/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('only looks at the last 8 KB of output', () => {
    const m = compileExpect('NEEDLE', true);
    expect(m.test('NEEDLE' + 'x'.repeat(9000))).toBe(false);
    expect(m.test('x'.repeat(9000) + 'NEEDLE')).toBe(true);
  });
});
