/**
 * The body of a shadow update (PROTOCOL.md 3), from REST (`POST /devices/:id/shadow`,
 * `POST /devices/:id` `shadow`) and from devices (`Shadow.Update` params). Extra keys are
 * ignored rather than refused, because firmware and mdash.net clients send more than we read
 * (for example `state.delta`, which clients may not write and which is simply not read).
 */
import Type from 'typebox';
import type { JsonObject } from '../../shared/types';

/** Deepest nesting accepted inside `desired`, `reported` or `tags` of one update. */
export const MAX_SHADOW_DEPTH = 32;

// A JSON object or null. The values inside are not walked by the schema: the body is parsed
// JSON, so they are JSON already, and the depth is checked separately without recursion.
const ObjectOrNull = Type.Unsafe<JsonObject | null>(
  Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
);

export const ShadowUpdateSchema = Type.Object({
  state: Type.Optional(
    Type.Object({
      desired: Type.Optional(ObjectOrNull),
      reported: Type.Optional(ObjectOrNull),
    }),
  ),
  tags: Type.Optional(ObjectOrNull),
  // Bounded so a huge client value is a 400 naming the field, not a 409 or a 500 later: past
  // 2^53 integers are not exact, and from 2^63 they do not fit the store's 64-bit integer.
  version: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
});

export type ShadowUpdate = Type.Static<typeof ShadowUpdateSchema>;
