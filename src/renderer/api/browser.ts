/**
 * The browser's own I/O used by the dashboard, in one place (DESIGN.md example 7: only api/ does
 * I/O): the key kept in sessionStorage, the address bar's fragment and hash routes, the clipboard.
 */

const KEY_ITEM = 'fleetbench.key';

export interface KeyStorage {
  load(): string | null;
  save(key: string): void;
  clear(): void;
}

/**
 * sessionStorage, not localStorage: the master key survives a reload but not closing the tab, and
 * is never shared with other tabs' sessions. Storage can be disabled; then the key lives only in memory.
 */
export function sessionKeyStorage(storage: Storage | null): KeyStorage {
  let memory: string | null = null;
  return {
    load() {
      try {
        return storage?.getItem(KEY_ITEM) ?? memory;
      } catch {
        return memory;
      }
    },
    save(key) {
      memory = key;
      try {
        storage?.setItem(KEY_ITEM, key);
      } catch {
        // private mode or quota: memory only
      }
    },
    clear() {
      memory = null;
      try {
        storage?.removeItem(KEY_ITEM);
      } catch {
        // nothing stored
      }
    },
  };
}

export interface AddressBar {
  hash(): string;
  /** Replaces the fragment without a history entry (used to drop `#key=`). */
  replaceHash(hash: string): void;
  /** Navigates to a hash route with a history entry (Back works). */
  pushHash(hash: string): void;
  onHashChange(listener: () => void): () => void;
}

export function browserAddressBar(win: Window): AddressBar {
  return {
    hash: () => win.location.hash,
    replaceHash(hash) {
      const { pathname, search } = win.location;
      win.history.replaceState(win.history.state, '', `${pathname}${search}${hash}`);
    },
    pushHash(hash) {
      if (win.location.hash !== hash) win.location.hash = hash;
    },
    onHashChange(listener) {
      win.addEventListener('hashchange', listener);
      return () => win.removeEventListener('hashchange', listener);
    },
  };
}

/**
 * Copies text. `navigator.clipboard` exists only in secure contexts, and a dashboard opened at
 * `http://192.168.x.y:8009` on the LAN is not one, so fall back to a selected textarea.
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (typeof navigator !== 'undefined' && navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the legacy path
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/**
 * Saves a downloaded file. The firmware download needs the Authorization header, so it is fetched
 * as a blob (the key never goes into a URL) and handed over through an object URL.
 */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
