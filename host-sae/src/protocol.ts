// What the action wrapper and the host SAE say to each other (HTTPS, bearer wrapper secret):
//   POST /v1/derive   {header, invocationsPerKey} → {requestKey, responseKey} (base64 AES-256 keys)
//   POST /v1/failures {reason}                     → 204 (envelope failures seen by the wrapper)
// Errors are RFC 9457 problem details with a `reason` from the envelope's RejectReason.
import { z } from 'zod';

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
});
export type DeriveRequest = z.infer<typeof deriveRequestSchema>;

export const deriveResponseSchema = z.object({ requestKey: z.base64(), responseKey: z.base64() });
export type DeriveResponse = z.infer<typeof deriveResponseSchema>;

export const failureReportSchema = z.strictObject({ reason: z.enum(REJECT_REASONS) });

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  reason?: (typeof REJECT_REASONS)[number];
}
