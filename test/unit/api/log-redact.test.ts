import { describe, expect, it } from 'vitest';
import { redactUrl, requestLogFields } from '../../../src/main/api/log-redact';

describe('request log redaction', () => {
  it('replaces secret query values and keeps the rest', () => {
    expect(redactUrl('/api/v2/sql/db?access_token=s3cr3t+x&dl=1')).toBe(
      '/api/v2/sql/db?access_token=REDACTED&dl=1',
    );
    expect(redactUrl('/api/v2/notify?token=abc')).toBe('/api/v2/notify?token=REDACTED');
    expect(redactUrl('/api/v2/devices?limit=5')).toBe('/api/v2/devices?limit=5');
    expect(redactUrl('/api/v2/devices')).toBe('/api/v2/devices');
  });

  it('is what the request serializer logs', () => {
    const fields = requestLogFields({
      method: 'GET',
      url: '/a?access_token=k',
      ip: '127.0.0.1',
      socket: { remotePort: 5 },
    });
    expect(fields).toEqual({
      method: 'GET',
      url: '/a?access_token=REDACTED',
      remoteAddress: '127.0.0.1',
      remotePort: 5,
    });
    expect(JSON.stringify(fields)).not.toContain('=k');
  });
});
