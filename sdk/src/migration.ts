// Transparent migration, the decisions (pure): what a failed attempt proves about whether the
// payload ran, and whether to re-seal it for the context's newer address. The rule:
//
//   an attempt is retried only when it provably did not run the action — the old host has no such
//   action any more (404 at the web action URL) or the connection was never made — and only on a
//   newer address (a later generation, from a notification), one attempt at a time.
//
// So a payload runs at most once (nothing that may have run is re-sent), is never under two keys at
// once (the next attempt is sealed after the previous one's answer), and is lost only with an error
// saying it did not run (NotExecuted), so the caller may send it again.

import { neverSent } from './http.ts';
import { KeySupplyClosed } from './key-supply.ts';
import { ApplicationError, InvocationRefused, KeyUnavailable } from './secure-invoke.ts';

export type FailureKind =
  /** 404 at the referenceURI: the action is not (any more) on that host; nothing ran. */
  | 'not-here'
  /** The connection was never established; nothing was sent. */
  | 'not-delivered'
  /** The client KME gave no key: nothing was sealed. */
  | 'no-key'
  /** The wrapper, host SAE or OpenWhisk refused before the app ran (envelope reason, throttling). */
  | 'refused'
  /** The app ran and answered an error (sealed). */
  | 'app-error'
  /** Anything else (timeouts, resets, 202 still running, 502): the app may have run. */
  | 'unknown';

/** Statuses OpenWhisk answers before it activates anything (throttled, overloaded). */
const BEFORE_ACTIVATION = new Set([429, 503]);

export function classifyFailure(err: unknown): FailureKind {
  if (err instanceof ApplicationError) return 'app-error';
  // a supply closed under a waiting call is the old address's, left by a migration: nothing was sent
  if (err instanceof KeyUnavailable) return err.cause instanceof KeySupplyClosed ? 'not-delivered' : 'no-key';
  if (err instanceof InvocationRefused) {
    if (err.status === 404) return 'not-here';
    // the wrapper's refusals carry a reason and come before `main`; a 400 without one may be the
    // app's own non-JSON answer, which ran
    if (err.status === 400 && !err.reason.startsWith('http-')) return 'refused';
    if (BEFORE_ACTIVATION.has(err.status)) return 'refused';
    return 'unknown';
  }
  if (neverSent(err)) return 'not-delivered';
  return 'unknown';
}

/** Whether the payload may have run, for callers deciding to send it again. */
export const mayHaveRun = (k: FailureKind) => k === 'app-error' || k === 'unknown';

export type Step = 'retry' | 'wait' | 'fail';

export interface StepInput {
  kind: FailureKind;
  /** The address generation the attempt was sealed for, and the session's current one. */
  attemptGeneration: number;
  currentGeneration: number;
  /** Attempts made so far, this one included, and the bound. */
  attempts: number;
  maxAttempts: number;
}

export function nextStep(s: StepInput): Step {
  if (s.kind !== 'not-here' && s.kind !== 'not-delivered') return 'fail';
  if (s.attempts >= s.maxAttempts) return 'fail';
  return s.currentGeneration > s.attemptGeneration ? 'retry' : 'wait';
}
