// Exit codes scripts can branch on, and what each error means to a person.
//   0 ok · 1 usage or bad input · 2 refused (by the LCMP, the token endpoint, the KME or the host;
//   nothing ran) · 3 unreachable (nothing was sent) · 4 the app ran and answered an error ·
//   5 outcome unknown (the invocation may have run: do not blindly repeat it)
import { Qkd014Error } from '@mecqkd/kme-sim/client';
import { EnvelopeError } from '../envelope.ts';
import { networkCode, neverSent } from '../http.ts';
import { classifyFailure } from '../migration.ts';
import { Mx2Error, Mx2ProtocolError, Mx2RequestError } from '../mx2-client.ts';
import { ContextDeleted, NotExecuted, OutcomeUnknown } from '../offload-session.ts';
import { ApplicationError, InvocationRefused, KeyUnavailable } from '../secure-invoke.ts';
import { TokenError } from '../token.ts';
import { UsageError } from './command.ts';

export const EXIT = { ok: 0, usage: 1, refused: 2, unreachable: 3, appError: 4, unknown: 5 } as const;

export interface Failure {
  code: number;
  message: string;
  /** Machine-readable details for --output json. */
  detail: Record<string, unknown>;
}

export function failureOf(err: unknown): Failure {
  const message = err instanceof Error ? err.message : String(err);
  const base = { message, error: err instanceof Error ? err.constructor.name : 'Error' };
  if (err instanceof UsageError || err instanceof Mx2RequestError)
    return {
      code: EXIT.usage,
      message,
      detail: { ...base, ...(err instanceof Mx2RequestError ? { fields: err.fields } : {}) },
    };
  if (err instanceof Mx2Error)
    return {
      code: EXIT.refused,
      message,
      detail: {
        ...base,
        status: err.status,
        title: err.title,
        detail: err.detail,
        fields: err.fields,
        ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
      },
    };
  if (err instanceof TokenError)
    return { code: EXIT.refused, message, detail: { ...base, status: err.status, oauthError: err.error } };
  if (err instanceof Qkd014Error)
    return {
      code: EXIT.refused,
      message: `the client KME refused: ${message}`,
      detail: { ...base, status: err.status },
    };
  if (err instanceof KeyUnavailable) {
    const inner = failureOf(err.cause);
    return {
      code: inner.code === EXIT.refused ? EXIT.refused : EXIT.unreachable,
      message,
      detail: { ...base, cause: inner.detail },
    };
  }
  if (err instanceof ApplicationError)
    return { code: EXIT.appError, message, detail: { ...base, appError: err.error } };
  if (err instanceof OutcomeUnknown)
    return { code: EXIT.unknown, message, detail: { ...base, attempts: err.attempts } };
  if (err instanceof NotExecuted)
    return {
      code: neverSent(err.cause) ? EXIT.unreachable : EXIT.refused,
      message,
      detail: { ...base, attempts: err.attempts },
    };
  if (err instanceof ContextDeleted) return { code: EXIT.refused, message, detail: base };
  if (err instanceof InvocationRefused) {
    const kind = classifyFailure(err);
    return {
      code: kind === 'unknown' ? EXIT.unknown : EXIT.refused,
      message,
      detail: { ...base, reason: err.reason, status: err.status },
    };
  }
  if (err instanceof EnvelopeError)
    return {
      code: EXIT.unknown,
      message: `the answer did not verify: ${message}`,
      detail: { ...base, reason: err.reason },
    };
  if (err instanceof Mx2ProtocolError) return { code: EXIT.refused, message, detail: base };
  const net = networkCode(err);
  if (net !== undefined || (err instanceof TypeError && message === 'fetch failed'))
    return {
      code: neverSent(err) ? EXIT.unreachable : EXIT.unknown,
      message: `${message}${net ? ` (${net})` : ''}`,
      detail: { ...base, networkCode: net },
    };
  return { code: EXIT.usage, message, detail: base };
}
