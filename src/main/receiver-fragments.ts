/**
 * Keeps `ws`'s frame receiver from promoting every device message to the old generation
 * (issue 11). After each message the receiver replaces its fragment list with a new `[]`. On a
 * device socket (the hub's end, and each simulated device's in `fleetbench sim`) that list then
 * waits for the next message, a second or more at fleet scale, and the young-generation GC moves
 * it to the old generation. When the next message arrives, the receiver pushes the frame into that
 * old list and then drops it: the list is now dead, but only a full GC can tell, and until then it
 * keeps the frame's buffer and the list's new storage alive through every young-generation GC,
 * which copies them and then promotes them.
 * At 10,000 devices that was most of the ~500 bytes promoted per REST RPC, and the full GCs they
 * cause (marking the whole fleet's heap) cost more CPU than any part of the call itself.
 *
 * So the receiver keeps one list for the socket's life: once a message has been handed on, the
 * `[]` it just assigned is swapped back for that list, emptied. The `[]` dies young; the list
 * holds a frame only while its message is parsed. A plain property write, so the receiver keeps
 * its fast properties. This leans on `ws` internals (`_receiver`, `_fragments`, ws 8): where they
 * are not as expected, nothing is done and `ws` runs as it is.
 */
import type { WebSocket } from 'ws';

interface Receiver {
  _fragments?: unknown;
}

/**
 * Returns what the socket's `message` listener calls for each message (first thing, before any
 * other listener can throw): it puts the socket's one fragment list back, emptied.
 */
export function reuseFragmentList(ws: WebSocket): () => void {
  const receiver = (ws as unknown as { _receiver?: Receiver })._receiver;
  const list = receiver?._fragments;
  if (receiver === undefined || !Array.isArray(list) || list.length !== 0) return noop;
  return () => {
    const now = receiver._fragments;
    if (now === list) return;
    // Only the fresh `[]` of a finished message is swapped; anything else is left to ws.
    if (!Array.isArray(now) || now.length !== 0) return;
    list.length = 0;
    receiver._fragments = list;
  };
}

function noop(): void {}
