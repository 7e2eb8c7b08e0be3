/**
 * An error reply the simulated firmware sends: `{"id":..,"error":{"code","message"}}`
 * (PROTOCOL.md 2). Method handlers throw it; the dispatcher turns it into the reply frame.
 * Codes follow what real firmware uses: -1 for file-system and OTA failures (Mongoose OS style),
 * 404 for unknown names, and the JSON-RPC codes of RPC_ERRORS for frame-level problems.
 */
export class RpcFault extends Error {
  override readonly name = 'RpcFault';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** The code real firmware puts on file-system and updater errors. */
export const FIRMWARE_ERROR = -1;
