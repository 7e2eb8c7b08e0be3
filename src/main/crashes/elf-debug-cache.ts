/**
 * Parsed ELF symbol and line tables, loaded on demand and kept in a bounded LRU keyed by the ELF's
 * path (content-addressed in the library, so a path always names the same bytes). Loading reads
 * the file asynchronously and parses `.debug_line` one compile unit per event-loop turn, so a
 * 20 MB firmware ELF never stalls the gateway (issue 8: decoding is off the hot path).
 */
import { readFile, stat } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parseElfSymbols, type SymbolTable } from '../firmware/elf-symbols';
import {
  debugLineInput,
  debugLineSteps,
  finishLineTable,
  newLineBuilder,
  type LineTable,
} from '../firmware/elf-lines';

export interface ElfDebug {
  /** null when the ELF has no usable `.symtab` (stripped). */
  symbols: SymbolTable | null;
  /** null when it has no `.debug_line` (built without -g). */
  lines: LineTable | null;
}

/** Work done between yields to the event loop while parsing line programs. */
const SLICE_MS = 8;

export async function loadElfDebug(path: string, maxBytes: number): Promise<ElfDebug> {
  const { size } = await stat(path);
  if (size > maxBytes) throw new Error(`ELF is ${size} bytes, over the ${maxBytes}-byte limit`);
  const buf = new Uint8Array(await readFile(path));
  let symbols: SymbolTable | null = null;
  try {
    symbols = parseElfSymbols(buf);
  } catch {
    symbols = null;
  }
  await nextTurn();
  const input = debugLineInput(buf);
  let lines: LineTable | null = null;
  if (input) {
    const b = newLineBuilder();
    let sliceStart = Date.now();
    for (const _ of debugLineSteps(input, b)) {
      void _;
      if (Date.now() - sliceStart >= SLICE_MS) {
        await nextTurn();
        sliceStart = Date.now();
      }
    }
    lines = finishLineTable(b);
  }
  return { symbols, lines };
}

export class ElfDebugCache {
  private readonly entries = new Map<string, Promise<ElfDebug>>();
  loads = 0;

  constructor(
    private readonly capacity: number,
    private readonly maxBytes: number,
    private readonly load: (path: string, maxBytes: number) => Promise<ElfDebug> = loadElfDebug,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** One load per path even when many crashes ask at once; a failed load is not kept. */
  get(path: string): Promise<ElfDebug> {
    const hit = this.entries.get(path);
    if (hit) {
      // Map order is insertion order: re-inserting marks it most recently used.
      this.entries.delete(path);
      this.entries.set(path, hit);
      return hit;
    }
    this.loads++;
    const p = this.load(path, this.maxBytes);
    this.entries.set(path, p);
    p.catch(() => {
      if (this.entries.get(path) === p) this.entries.delete(path);
    });
    while (this.entries.size > Math.max(1, this.capacity)) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return p;
  }
}
