import { describe, expect, it } from 'vitest';
import { elfSections, parseDebugLine } from '../../../src/main/firmware/elf-lines';
import { buildElf32 } from '../../support/elf32-writer';
import { buildDebugLine, type LineUnit } from '../../support/dwarf-line-writer';

const units: LineUnit[] = [
  {
    dirs: ['/build', '/src/main'],
    files: [
      { name: 'app_main.c', dir: 1 },
      { name: 'helpers.h', dir: 1 },
    ],
    sequences: [
      {
        rows: [
          { addr: 0x400d1000, file: 0, line: 10 },
          { addr: 0x400d1008, file: 0, line: 12 },
          { addr: 0x400d1030, file: 1, line: 3 },
          // A jump back and a large address step: advance_line/advance_pc instead of specials.
          { addr: 0x400d1300, file: 0, line: 2 },
        ],
        end: 0x400d1340,
      },
    ],
  },
  {
    dirs: ['/build'],
    files: [{ name: '/idf/components/esp_system/panic.c', dir: 0 }],
    sequences: [{ rows: [{ addr: 0x40081000, file: 0, line: 400 }], end: 0x40081020 }],
  },
];

function elfWith(version: 4 | 5): Uint8Array {
  const dl = buildDebugLine(units, version);
  const sections = [{ name: '.debug_line', data: dl.debugLine }];
  if (version === 5) sections.push({ name: '.debug_line_str', data: dl.debugLineStr });
  return buildElf32({ symbols: [{ name: 'app_main', value: 0x400d1000, size: 0x340 }], sections });
}

describe.each([4, 5] as const)('parseDebugLine (DWARF %i)', (version) => {
  const table = parseDebugLine(elfWith(version));

  it('maps addresses inside each row to its file and line', () => {
    expect(table).not.toBeNull();
    expect(table?.lookup(0x400d1000)).toEqual({ file: '/src/main/app_main.c', line: 10 });
    expect(table?.lookup(0x400d1007)).toEqual({ file: '/src/main/app_main.c', line: 10 });
    expect(table?.lookup(0x400d1010)).toEqual({ file: '/src/main/app_main.c', line: 12 });
    expect(table?.lookup(0x400d1031)).toEqual({ file: '/src/main/helpers.h', line: 3 });
    expect(table?.lookup(0x400d133f)).toEqual({ file: '/src/main/app_main.c', line: 2 });
    // An absolute path ignores its directory; units are kept apart.
    expect(table?.lookup(0x40081004)).toEqual({
      file: '/idf/components/esp_system/panic.c',
      line: 400,
    });
  });

  it('knows nothing outside the sequences', () => {
    expect(table?.lookup(0x400d0fff)).toBeNull();
    expect(table?.lookup(0x400d1340)).toBeNull();
    expect(table?.lookup(0x40081020)).toBeNull();
    expect(table?.lookup(-1)).toBeNull();
  });
});

describe('parseDebugLine on other files', () => {
  it('is null for an ELF without .debug_line and for non-ELF bytes', () => {
    expect(parseDebugLine(buildElf32({ symbols: [{ name: 'f', value: 1, size: 1 }] }))).toBeNull();
    expect(parseDebugLine(new Uint8Array(100))).toBeNull();
    expect(elfSections(new Uint8Array(10))).toEqual([]);
  });

  it('keeps the rows read before a unit that is cut short, and never throws', () => {
    const good = buildDebugLine(units.slice(0, 1), 4).debugLine;
    const second = buildDebugLine(units.slice(1), 4).debugLine;
    // The second unit claims its full length but the section ends halfway through its program.
    const cut = new Uint8Array([...good, ...second.subarray(0, second.length - 6)]);
    const table = parseDebugLine(
      buildElf32({
        symbols: [{ name: 'f', value: 1, size: 1 }],
        sections: [{ name: '.debug_line', data: cut }],
      }),
    );
    expect(table?.lookup(0x400d1010)).toEqual({ file: '/src/main/app_main.c', line: 12 });
    for (let n = 0; n < good.length; n += 7) {
      const junk = good.slice(0, n);
      expect(() =>
        parseDebugLine(
          buildElf32({
            symbols: [{ name: 'f', value: 1, size: 1 }],
            sections: [{ name: '.debug_line', data: junk }],
          }),
        ),
      ).not.toThrow();
    }
  });
});
