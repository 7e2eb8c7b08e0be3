/**
 * Customer emails (PROTOCOL.md 4): the account name, one customer per address. Compared
 * lowercased and trimmed, so `Ann@Example.com ` and `ann@example.com` are one account (no second
 * account, and no way around the "existing email gets no link" rule, by changing case).
 */
export const MAX_EMAIL_LENGTH = 254;

// Pragmatic, not RFC 5322: one @, no spaces or characters that break headers or lists, a dot in
// the domain. Good enough to refuse typos and junk; the address is never used to send mail.
const EMAIL = /^[^\s@"<>,;:\\()[\]]+@[^\s@"<>,;:\\()[\]]+\.[^\s@"<>,;:\\()[\].]+$/;

/** The canonical form of an email, or null when it is not a plausible address. */
export function normalizeEmail(raw: string): string | null {
  const email = raw.trim().toLowerCase();
  if (email.length === 0 || email.length > MAX_EMAIL_LENGTH) return null;
  return EMAIL.test(email) ? email : null;
}
