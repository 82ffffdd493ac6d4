// What the action wrapper and the host SAE say to each other: JSON lines (frames.ts) over one TLS
// connection per container (ALPN mecqkd-sae/1), the wrapper secret once per connection.
//   {op: "hello", secret}                               → nothing; a wrong secret: {error} and close
//   {id, op: "derive", header, invocationsPerKey,
//    expectedInvocationsPerSecond}                      → {id, requestKey, responseKey} (base64 AES-256)
//   {id, op: "failure", reason}                         → {id} (an envelope failure seen by the wrapper)
// A derive may ask for `ahead` keys: the reply then may carry `ahead: {validMs, keys: [{seq,
// requestKey, responseKey}]}`, the keys of the next sequence numbers, which that connection alone
// holds. The holder reports each one it takes, before using it (no answer):
//   {op: "used", keyId, seq}
// When another container needs one of them, the SAE asks the holder:
//   SAE → {op: "release", ref, keyId}   wrapper → {op: "released", ref, unused: [seq…]}
// and whatever the holder does not name as unused (or all, if it does not answer in time) counts as
// used. When the holder's connection ends, what it never reported is served to other containers.
// A refusal answers {id, error} with a problem (RFC 9457 fields) whose `reason` is the envelope's,
// or `key-rate-exceeded` (status 429, `retryAfterMs`) past the context's key allowance. The two
// numbers of a derive are the MecApp's, from the action's init parameters the operator set.
import { z } from 'zod';
import { MAX_AHEAD } from './frames.ts';

export const REJECT_REASONS = [
  'malformed',
  'unsupported-version',
  'wrong-direction',
  'wrong-binding',
  'sequence-exhausted',
  'replay',
  'unknown-key',
  'key-expired',
  'authentication-failed',
] as const;

export const requestHeaderSchema = z.strictObject({
  v: z.literal(1),
  keyId: z.uuid(),
  seq: z.int().min(0),
  contextId: z.string().regex(/^[0-9a-f]{32}$/),
  action: z.string().min(1).max(256),
  clientSaeId: z.string().min(1).max(256),
  direction: z.literal('request'),
});

export const deriveRequestSchema = z.strictObject({
  header: requestHeaderSchema,
  invocationsPerKey: z.int().min(1).max(1_000_000),
  /** The MecApp's declared demand: with invocationsPerKey, the context's key allowance. */
  expectedInvocationsPerSecond: z.number().min(0).max(100_000),
  /** Keys of the next sequence numbers this connection would hold ahead. */
  ahead: z.int().min(0).max(MAX_AHEAD).optional(),
});
export type DeriveRequest = z.infer<typeof deriveRequestSchema>;

const frameId = z.int().min(1).max(Number.MAX_SAFE_INTEGER);

export const helloFrameSchema = z.strictObject({
  op: z.literal('hello'),
  secret: z.string().min(1).max(1024),
});

export const requestFrameSchema = z.discriminatedUnion('op', [
  deriveRequestSchema.extend({
    id: frameId,
    op: z.literal('derive'),
    // W3C traceparent of the invocation, so the SAE's log line joins the caller's trace
    traceparent: z.string().max(55).optional(),
  }),
  z.strictObject({ id: frameId, op: z.literal('failure'), reason: z.enum(REJECT_REASONS) }),
  z.strictObject({ op: z.literal('used'), keyId: z.uuid(), seq: z.int().min(0) }),
  z.strictObject({
    op: z.literal('released'),
    ref: frameId,
    unused: z.array(z.int().min(0)).max(4 * MAX_AHEAD),
  }),
]);
export type RequestFrame = z.infer<typeof requestFrameSchema>;

/** Why the SAE refused a derive: the envelope's reasons, or the context's key allowance. */
export type RefusalReason = (typeof REJECT_REASONS)[number] | 'key-rate-exceeded';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  reason?: RefusalReason;
  /** With key-rate-exceeded: when the context's next new key fits its allowance. */
  retryAfterMs?: number;
}
