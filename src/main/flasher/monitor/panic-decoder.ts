/**
 * The panic parser moved to firmware/ so the fleet crash decoder can share it without importing
 * flasher/ (DESIGN.md layering); the serial monitor keeps importing it from here.
 */
export {
  decodePanic,
  formatFrame,
  isPanicStart,
  PanicDetector,
  type PanicDetectorOptions,
  type PanicFrame,
  type PanicInfo,
  type PanicKind,
} from '../../firmware/panic-backtrace';
