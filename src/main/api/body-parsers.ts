/**
 * Request bodies as real mDash clients send them: JSON with or without the right content type
 * (curl's `-d` defaults to form encoding), form fields (`query=` for /sql/exec), or nothing.
 * Malformed JSON becomes a coded `invalid_json` error instead of Fastify's default, and JSON nested
 * deeper than `limits.maxJsonDepth` a coded `json_too_deep` before any route sees it.
 */
import type { FastifyInstance } from 'fastify';
import { HubError } from '../../shared/errors';
import { checkJsonDepth } from '../validate';

export function parseLenientBody(
  text: string,
  contentType: string | undefined,
  maxDepth: number,
): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const isForm = (contentType ?? '').startsWith('application/x-www-form-urlencoded');
  const looksJson = /^[[{"]/.test(trimmed) || /^(true|false|null|-?\d)/.test(trimmed);
  if (!isForm || looksJson) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed) as unknown;
    } catch (err) {
      if (!isForm) {
        throw new HubError('invalid_json', `body is not valid JSON: ${(err as Error).message}`);
      }
      return Object.fromEntries(new URLSearchParams(trimmed));
    }
    checkJsonDepth(parsed, maxDepth);
    return parsed;
  }
  return Object.fromEntries(new URLSearchParams(trimmed));
}

export function registerBodyParsers(
  app: FastifyInstance,
  bodyLimit: number,
  maxJsonDepth: number,
): void {
  app.removeAllContentTypeParsers();
  const parser = (
    req: { headers: Record<string, string | string[] | undefined> },
    body: string | Buffer,
    done: (err: Error | null, body?: unknown) => void,
  ): void => {
    try {
      const ct = req.headers['content-type'];
      done(null, parseLenientBody(body.toString(), Array.isArray(ct) ? ct[0] : ct, maxJsonDepth));
    } catch (err) {
      done(err as Error);
    }
  };
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, parser);
}
