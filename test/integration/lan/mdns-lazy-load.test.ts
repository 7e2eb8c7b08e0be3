/**
 * The mDNS libraries (multicast-dns, bonjour-service) load only when mDNS starts (issue 12
 * clean-up; issue 11 cold start and idle RSS): a hub with mDNS off, answering the discovery and
 * doctor routes, never loads them; a hub with mDNS on loads both. Read from Node's module cache
 * (this file runs in a process of its own), where every CommonJS package lands once loaded.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { startTestHub } from '../../support/hub-harness';

const LIBS = /[\\/]node_modules[\\/](multicast-dns|bonjour-service)[\\/]/;

function mdnsLibsLoaded(): string[] {
  const found = new Set<string>();
  for (const path of Object.keys(createRequire(import.meta.url).cache)) {
    const m = LIBS.exec(path);
    if (m?.[1] !== undefined) found.add(m[1]);
  }
  return [...found].sort();
}

describe('mDNS libraries load lazily', () => {
  it('a hub without mDNS loads neither; one with mDNS loads both', async () => {
    expect(mdnsLibsLoaded()).toEqual([]);
    const off = await startTestHub();
    try {
      expect((await off.api('GET', '/api/v2/hubs')).status).toBe(200);
      expect((await off.api('GET', '/api/v2/doctor')).status).toBe(200);
      expect(mdnsLibsLoaded()).toEqual([]);
    } finally {
      await off.stop();
    }
    // The control: the same probe sees them once a hub advertises (own port, loopback only).
    const on = await startTestHub({
      discovery: {
        mdns: true,
        mdnsPort: 20_000 + Math.floor(Math.random() * 20_000),
        mdnsInterface: '127.0.0.1',
        mdnsProbeMs: 50,
      },
    });
    try {
      expect(mdnsLibsLoaded()).toEqual(['bonjour-service', 'multicast-dns']);
      expect(on.hub.services().hubBrowser).not.toBeNull();
    } finally {
      await on.stop();
    }
  });
});
