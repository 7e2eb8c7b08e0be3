/**
 * Provisioning custom firmware with a user-defined line template (issue: "a user-defined line
 * template (e.g. `set device.pass {password}\n`) with the placeholders documented").
 *
 * Template language (kept deliberately tiny so it can be explained in one tooltip):
 *
 *   {id}         device id minted by the hub
 *   {password}   device password (token) minted by the hub
 *   {server}     the hub's device WebSocket URL, e.g. ws://192.168.1.10:8009/api/v2/rpc
 *   {wifi_ssid}  Wi-Fi network name
 *   {wifi_pass}  Wi-Fi password
 *   {name}       device name
 *   \n \r \t \\  newline, carriage return, tab, backslash
 *   {{ and }}    literal { and }
 *
 * Each rendered line (split after "\n") is written in turn; with `expect`, the device's answer
 * must match before the next line goes out.
 *
 * `expect` comes from a user, so it is treated as hostile: a pattern is at most 256 characters,
 * is tested against at most the last 8 KB of output, and each test runs in a `vm` context with a
 * 50 ms budget, so a catastrophic-backtracking pattern such as `(a+)+$` fails the step with a
 * clear error instead of freezing the hub. `expectLiteral: true` matches a plain substring.
 */
import { runInContext, createContext, type Context } from 'node:vm';
import Type from 'typebox';
import { HubError } from '../../../shared/errors';
import { FlashError } from '../../../shared/flash-state';
import {
  PortBaudFields,
  errText,
  openProvisionSession,
  parseOptions,
  sleep,
  step,
  type ProvisionReport,
} from './provision-common';

export const TEMPLATE_PLACEHOLDERS = {
  id: 'device id minted by the hub',
  password: 'device password (token) minted by the hub',
  server: "the hub's device WebSocket URL, e.g. ws://192.168.1.10:8009/api/v2/rpc",
  wifi_ssid: 'Wi-Fi network name',
  wifi_pass: 'Wi-Fi password',
  name: 'device name',
} as const;

export type TemplatePlaceholder = keyof typeof TEMPLATE_PLACEHOLDERS;
export type TemplateVars = Partial<Record<TemplatePlaceholder, string>>;

const KNOWN = Object.keys(TEMPLATE_PLACEHOLDERS) as TemplatePlaceholder[];
const KNOWN_LIST = KNOWN.map((k) => `{${k}}`).join(', ');

export const MAX_TEMPLATE_CHARS = 8192;

function isKnown(name: string): name is TemplatePlaceholder {
  return (KNOWN as string[]).includes(name);
}

/**
 * Renders a template. Throws HubError('validation_failed') naming the problem: an unknown
 * placeholder (listing the known ones), a placeholder without a value, an unbalanced brace or an
 * unknown escape.
 */
export function renderTemplate(template: string, vars: TemplateVars): string {
  if (typeof template !== 'string')
    throw new HubError('validation_failed', 'template must be a string');
  if (template.length > MAX_TEMPLATE_CHARS) {
    throw new HubError(
      'validation_failed',
      `template is longer than ${MAX_TEMPLATE_CHARS} characters`,
    );
  }
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if (c === '\\') {
      const e = template[i + 1];
      const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\' };
      if (e === undefined || map[e] === undefined) {
        throw new HubError(
          'validation_failed',
          `unknown escape "\\${e ?? ''}" at position ${i}; use \\n, \\r, \\t or \\\\`,
        );
      }
      out += map[e];
      i += 2;
    } else if (c === '{') {
      if (template[i + 1] === '{') {
        out += '{';
        i += 2;
        continue;
      }
      const close = template.indexOf('}', i + 1);
      if (close < 0) {
        throw new HubError(
          'validation_failed',
          `unclosed "{" at position ${i}; write {{ for a literal brace`,
        );
      }
      const name = template.slice(i + 1, close);
      if (!isKnown(name)) {
        throw new HubError(
          'validation_failed',
          `unknown placeholder {${name.slice(0, 40)}}; known placeholders: ${KNOWN_LIST}`,
        );
      }
      const value = vars[name];
      if (typeof value !== 'string') {
        throw new HubError(
          'validation_failed',
          `placeholder {${name}} has no value for this device`,
        );
      }
      out += value;
      i = close + 1;
    } else if (c === '}') {
      if (template[i + 1] === '}') {
        out += '}';
        i += 2;
        continue;
      }
      throw new HubError(
        'validation_failed',
        `unmatched "}" at position ${i}; write }} for a literal brace`,
      );
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/** Splits rendered text into the lines we send, each keeping its "\n". */
export function splitTemplateLines(rendered: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < rendered.length; i++) {
    if (rendered[i] === '\n') {
      out.push(rendered.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < rendered.length) out.push(rendered.slice(start));
  return out;
}

export const MAX_EXPECT_PATTERN = 256;
export const EXPECT_WINDOW_CHARS = 8192;
export const EXPECT_BUDGET_MS = 50;

export interface ExpectMatcher {
  /** True when `text` satisfies the expectation. Throws HubError when the pattern is too costly. */
  test(text: string): boolean;
}

/** Compiles a user `expect`: substring when `literal`, else a bounded, time-boxed regex. */
export function compileExpect(pattern: string, literal = false): ExpectMatcher {
  if (typeof pattern !== 'string' || pattern === '') {
    throw new HubError('validation_failed', 'expect must be a non-empty string');
  }
  if (pattern.length > MAX_EXPECT_PATTERN) {
    throw new HubError(
      'validation_failed',
      `expect is longer than ${MAX_EXPECT_PATTERN} characters`,
    );
  }
  if (literal) {
    return { test: (text) => text.slice(-EXPECT_WINDOW_CHARS).includes(pattern) };
  }
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (err) {
    throw new HubError(
      'validation_failed',
      `expect is not a valid regular expression: ${errText(err)}`,
    );
  }
  const ctx: Context = createContext({ re, s: '' });
  return {
    test(text) {
      ctx.s = text.slice(-EXPECT_WINDOW_CHARS);
      try {
        return runInContext('re.test(s)', ctx, { timeout: EXPECT_BUDGET_MS }) === true;
      } catch (err) {
        if (/timed out/i.test(errText(err))) {
          throw new HubError(
            'validation_failed',
            `expect pattern took longer than ${EXPECT_BUDGET_MS} ms to match (catastrophic backtracking?); simplify it or use literal mode`,
          );
        }
        throw err;
      }
    },
  };
}

const VarsSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 256 })),
    password: Type.Optional(Type.String({ maxLength: 256 })),
    server: Type.Optional(Type.String({ maxLength: 512 })),
    wifi_ssid: Type.Optional(Type.String({ maxLength: 32 })),
    wifi_pass: Type.Optional(Type.String({ maxLength: 64 })),
    name: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);

export const TemplateProvisionSchema = Type.Object(
  {
    ...PortBaudFields,
    template: Type.String({ minLength: 1, maxLength: MAX_TEMPLATE_CHARS }),
    vars: VarsSchema,
    expect: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_EXPECT_PATTERN })),
    expectLiteral: Type.Optional(Type.Boolean()),
    /** Waiting for `expect` after each line; default 5 s. */
    lineTimeoutMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 120_000 })),
    /** Pause between lines when there is no `expect` (consoles without flow control); default 50 ms. */
    lineDelayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  },
  { additionalProperties: false },
);

export interface TemplateProvisionResult {
  linesSent: number;
  /** What the device printed while we provisioned (last 8 KB), for the job log. */
  transcript: string;
}

/**
 * Renders the template and writes it line by line. Reports `{state:'provisioning', step}` as
 * "sending line i of n" (never the line itself: it holds secrets); throws FlashError.
 */
export async function provisionTemplate(
  input: unknown,
  report?: ProvisionReport,
): Promise<TemplateProvisionResult> {
  const opts = parseOptions(TemplateProvisionSchema, input);
  let lines: string[];
  let matcher: ExpectMatcher | null = null;
  try {
    lines = splitTemplateLines(renderTemplate(opts.template, opts.vars));
    if (opts.expect !== undefined)
      matcher = compileExpect(opts.expect, opts.expectLiteral === true);
  } catch (err) {
    throw new FlashError('provision_failed', `template: ${errText(err)}`);
  }
  if (lines.length === 0) throw new FlashError('provision_failed', 'template renders to nothing');

  const { link, guarded, close } = await openProvisionSession(opts, report);
  let transcript = '';
  let sinceLine = '';
  const decoder = new TextDecoder();
  let wake: (() => void) | null = null;
  const onData = (chunk: Buffer) => {
    const text = decoder.decode(chunk, { stream: true });
    transcript = (transcript + text).slice(-EXPECT_WINDOW_CHARS);
    sinceLine = (sinceLine + text).slice(-EXPECT_WINDOW_CHARS);
    wake?.();
  };
  link.on('data', onData);
  try {
    for (let i = 0; i < lines.length; i++) {
      step(report, `sending line ${i + 1} of ${lines.length}`);
      sinceLine = '';
      await guarded(link.write(lines[i] ?? '')).catch((err: unknown) => {
        if (err instanceof FlashError) throw err;
        throw new FlashError('port_vanished', `writing line ${i + 1} failed: ${errText(err)}`);
      });
      if (matcher) {
        const m = matcher;
        const timeoutMs = opts.lineTimeoutMs ?? 5000;
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          let ok: boolean;
          try {
            ok = m.test(sinceLine);
          } catch (err) {
            throw new FlashError('provision_failed', `line ${i + 1}: ${errText(err)}`);
          }
          if (ok) break;
          const left = deadline - Date.now();
          if (left <= 0) {
            throw new FlashError(
              'provision_failed',
              `line ${i + 1} of ${lines.length}: the device did not answer with the expected text within ${Math.round(timeoutMs / 100) / 10} s`,
              `Last output: ${JSON.stringify(sinceLine.slice(-120))}`,
            );
          }
          await guarded(
            new Promise<void>((resolve) => {
              const t = setTimeout(resolve, Math.min(left, 200));
              wake = () => {
                clearTimeout(t);
                resolve();
              };
            }),
          );
          wake = null;
        }
      } else if (i < lines.length - 1) {
        await sleep(opts.lineDelayMs ?? 50);
      }
    }
    return { linesSent: lines.length, transcript };
  } finally {
    link.off('data', onData);
    await close();
  }
}
