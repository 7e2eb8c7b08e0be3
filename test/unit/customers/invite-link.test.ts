import { describe, expect, it } from 'vitest';
import { inviteLink } from '../../../src/main/customers/invite-link';

const base = { token: 'TOK-en_1', requestOrigin: 'http://10.0.0.5:8009' };

describe('/invite link: <redir>?<token> on the hub named in url (PROTOCOL.md 4)', () => {
  it('resolves a relative redir against url; the whole query string is the token', () => {
    expect(inviteLink({ ...base, url: 'https://hub.lan:8443', redir: '/a/app1/' })).toBe(
      'https://hub.lan:8443/a/app1/?TOK-en_1',
    );
    expect(
      inviteLink({ ...base, url: 'https://hub.lan/a/app1/index.html', redir: 'login.html' }),
    ).toBe('https://hub.lan/a/app1/login.html?TOK-en_1');
  });

  it("keeps only the path of an absolute redir: the origin is always url's", () => {
    expect(
      inviteLink({
        ...base,
        url: 'http://hub.lan:8009',
        redir: 'https://elsewhere.example/a/x/?q=1#f',
      }),
    ).toBe('http://hub.lan:8009/a/x/?TOK-en_1');
    expect(inviteLink({ ...base, url: 'http://hub.lan', redir: '//evil.example/steal' })).toBe(
      'http://hub.lan/steal?TOK-en_1',
    );
  });

  it('without redir opens the app, without url the hub that answered', () => {
    expect(inviteLink({ ...base, appId: 'myapp' })).toBe('http://10.0.0.5:8009/a/myapp/?TOK-en_1');
    expect(inviteLink({ ...base })).toBe('http://10.0.0.5:8009/a/default/?TOK-en_1');
    expect(inviteLink({ ...base, url: '', redir: '' })).toBe(
      'http://10.0.0.5:8009/a/default/?TOK-en_1',
    );
  });

  it('refuses a url or redir that is not http(s)', () => {
    expect(inviteLink({ ...base, url: 'javascript:alert(1)' })).toBeNull();
    expect(inviteLink({ ...base, url: 'not a url' })).toBeNull();
    expect(inviteLink({ ...base, url: 'ftp://hub.lan/' })).toBeNull();
    expect(inviteLink({ ...base, url: 'http://hub.lan', redir: 'javascript:alert(1)' })).toBeNull();
  });
});
