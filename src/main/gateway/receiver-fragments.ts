/**
 * Keeps `ws`'s frame receiver from promoting every device message to the old generation
 * (issue 11). After each message the receiver replaces its fragment list with a new `[]`. On a
 * device socket that list then waits for the device's next message, a second or more at fleet
 * scale, and the young-generation GC moves it to the old generation. When the next message
 * arrives, the receiver pushes the frame into that old list and then drops it: the list is now
 * dead, but only a full GC can tell, and until then it keeps the frame's buffer and the list's
 * new storage alive through every young-generation GC, which copies them and then promotes them.
 * At 10,000 devices that was most of the ~500 bytes promoted per REST RPC, and the full GCs they
 * cause (marking the whole fleet's heap) cost more CPU than any part of the call itself.
 *
 * So the receiver gets two lists that live as long as the socket and take turns: the `[]` it
 * assigns after a message is ignored, the other list (emptied) becomes the current one, and the
 * list just used is emptied by `release()` once the message has been handed on. Nothing else of
 * the receiver changes. This leans on `ws` internals (`_receiver`, `_fragments`, ws 8): where they
 * are not as expected, nothing is installed and `ws` runs as it is.
 */
import type { WebSocket } from 'ws';

export interface FragmentLists {
  /** Empties the list of the message just handed on (call from the `message` listener). */
  release(): void;
}

const NONE: FragmentLists = { release: () => undefined };

export function reuseFragmentLists(ws: WebSocket): FragmentLists {
  const receiver = (ws as unknown as { _receiver?: { _fragments?: unknown } })._receiver;
  if (receiver === undefined || !Array.isArray(receiver._fragments)) return NONE;
  if (receiver._fragments.length !== 0) return NONE;
  let current: unknown[] = [];
  let previous: unknown[] = [];
  Object.defineProperty(receiver, '_fragments', {
    configurable: true,
    enumerable: true,
    get: () => current,
    // The receiver assigns a fresh `[]` once it has taken the list of the message just parsed.
    set: () => {
      const next = previous;
      previous = current;
      current = next;
      // Normally emptied by release() already; emptied here too, so a message that no listener
      // saw can never leave a frame in the list the receiver fills next.
      current.length = 0;
    },
  });
  return {
    release: () => {
      previous.length = 0;
    },
  };
}
