import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/renderer/api/api-error';
import { answerError, noAnswerError, parseAnswerBody } from '../../../src/renderer/api/hub-answer';

describe('reading a hub answer (shared by the REST, OTA and flasher clients)', () => {
  it('parses JSON, keeps text that is not JSON, and reads an empty body as undefined', () => {
    expect(parseAnswerBody('{"a":1}')).toEqual({ a: 1 });
    expect(parseAnswerBody('null')).toBeNull();
    expect(parseAnswerBody('<html>bad gateway</html>')).toBe('<html>bad gateway</html>');
    expect(parseAnswerBody('')).toBeUndefined();
  });

  it("a refusal carries the hub's catalog code, else the HTTP status", () => {
    const coded = answerError(409, { error: { code: 4096, message: 'platform mismatch' } });
    expect(coded).toBeInstanceOf(ApiError);
    expect([coded.code, coded.status, coded.message]).toEqual([4096, 409, 'platform mismatch']);
    const bare = answerError(502, '<html>', 'Bad Gateway');
    expect([bare.code, bare.status, bare.message]).toEqual([502, 502, 'Bad Gateway']);
    expect(answerError(500, undefined).message).toBe('HTTP 500');
  });

  it('no answer is code 0: our deadline names itself, anything else is the network', () => {
    expect(noAnswerError(new Error('aborted'), true, 'too late').message).toBe('too late');
    const net = noAnswerError(new TypeError('Failed to fetch'), false, 'too late');
    expect([net.code, net.status, net.message]).toEqual([
      0,
      0,
      'cannot reach the hub (Failed to fetch)',
    ]);
  });
});
