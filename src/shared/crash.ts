/**
 * The `log.decoded` notification (issue 8 "ESP32 crashes decoded fleet-wide"): a console line
 * holding an ESP32 panic backtrace, decoded with the ELF of the firmware the device runs.
 */
// Type aliases, not interfaces: they are assignable to `Json` for the notification bus.
export type DecodedFrame = {
  /** The PC as the device printed it, `0x400d1234`. */
  pc: string;
  /** null when the ELF has no symbol covering the PC. */
  function: string | null;
  /** null when the ELF has no line information for the PC. */
  file: string | null;
  line: number | null;
};

export type DecodedBacktrace = {
  /** `seq` / `t` of the `Log` frame that ended the backtrace line (null when it had none). */
  seq: number | null;
  t: number | null;
  /** Library firmware id whose ELF decoded it. */
  firmware: string;
  /** The `fw_id` the device reported. */
  fw_id: string;
  /** The console line itself. */
  backtrace: string;
  frames: DecodedFrame[];
  /** The backtrace ended in `|<-CORRUPTED`. */
  corrupted: boolean;
};

export const LOG_DECODED = 'log.decoded';
