/**
 * The request of an STM32 flash job, apart from the flashing code: the hub validates requests with
 * it without loading the serial port code, which runs in the flash worker (issue 11, idle RSS).
 */
import Type from 'typebox';
import { MAX_SEQUENCE_LENGTH } from './entry-sequence';

const Uint8ArraySchema = Type.Refine(
  Type.Unsafe<Uint8Array>({}),
  (v) => v instanceof Uint8Array,
  () => 'must be a Uint8Array',
);

const Address = Type.Integer({ minimum: 0, maximum: 0xffffffff });

/** The request; the schema is the source of the type (DESIGN.md example 4). */
export const Stm32FlashRequestSchema = Type.Object({
  /** Serial port, e.g. /dev/ttyUSB0 or COM3. */
  path: Type.String({ minLength: 1, maxLength: 4096 }),
  /** Default 115200. The bootloader detects the rate from the 0x7F byte (AN3155 2). */
  baud: Type.Optional(Type.Integer({ minimum: 1200, maximum: 3_000_000 })),
  /** Default 'even' (8E1, what the bootloader expects); 'none' for 8N1. */
  parity: Type.Optional(Type.Union([Type.Literal('even'), Type.Literal('none')])),
  image: Type.Union([
    Type.Object({
      kind: Type.Literal('bin'),
      data: Uint8ArraySchema,
      /** Where the first byte goes; default the flash start (0x08000000). */
      address: Type.Optional(Address),
    }),
    Type.Object({ kind: Type.Literal('hex'), text: Type.String() }),
  ]),
  /** Read every block back and compare (default true). */
  verify: Type.Optional(Type.Boolean()),
  /**
   * Start the application afterwards with Go (default true). `true` or `0` mean the flash start,
   * like stm32flash `-g 0x0`; another number is the address to jump to.
   */
  go: Type.Optional(Type.Union([Type.Boolean(), Address])),
  /** 'pages' (default) erases only what the image covers; 'mass' erases everything. */
  eraseMode: Type.Optional(Type.Union([Type.Literal('pages'), Type.Literal('mass')])),
  /** stm32flash `-i` syntax, see entry-sequence.ts, e.g. '-dtr,rts,-rts:dtr'. */
  entrySequence: Type.Optional(Type.String({ maxLength: MAX_SEQUENCE_LENGTH })),
});

export type Stm32FlashRequest = Type.Static<typeof Stm32FlashRequestSchema>;
