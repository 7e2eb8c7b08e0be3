/** Where the files of an app zip go (customers/app-archive.ts): root, one top folder, junk. */
import { describe, expect, it } from 'vitest';
import { appFileMap } from '../../../src/main/customers/app-archive';
import { HubError } from '../../../src/shared/errors';

const kinds = (names: string[]): string => {
  try {
    appFileMap(names);
    return 'ok';
  } catch (err) {
    return err instanceof HubError ? err.kind : 'other';
  }
};

describe('appFileMap', () => {
  it('keeps files at the root as they are, dropping folder entries', () => {
    expect([...appFileMap(['css/', 'index.html', 'css/a.css'])]).toEqual([
      ['index.html', 'index.html'],
      ['css/a.css', 'css/a.css'],
    ]);
  });

  it('strips one top folder when the root has no index.html', () => {
    expect([...appFileMap(['app/', 'app/index.html', 'app/js/a.js'])]).toEqual([
      ['app/index.html', 'index.html'],
      ['app/js/a.js', 'js/a.js'],
    ]);
  });

  it('skips macOS junk so it is neither a second top folder nor served', () => {
    const map = appFileMap(['app/index.html', '__MACOSX/app/._index.html', 'app/.DS_Store']);
    expect([...map.values()]).toEqual(['index.html']);
  });

  it('keeps a root index.html even when a folder also has one', () => {
    expect(appFileMap(['index.html', 'app/index.html']).get('app/index.html')).toBe(
      'app/index.html',
    );
  });

  it('refuses no index.html, two top folders, a nested one only, and an empty zip', () => {
    expect(kinds(['app.js'])).toBe('app_invalid');
    expect(kinds(['a/index.html', 'b/index.html'])).toBe('app_invalid');
    expect(kinds(['a/b/index.html'])).toBe('app_invalid');
    expect(kinds(['a/index.html', 'stray.txt'])).toBe('app_invalid');
    expect(kinds([])).toBe('app_invalid');
    expect(kinds(['dir/'])).toBe('app_invalid');
  });
});
