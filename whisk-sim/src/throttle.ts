// Per-namespace entitlement checks of the controller: invocations in the last minute and activations
// in flight, with the 429 messages of OpenWhisk's throttlers.
import type { Throttles } from './config.ts';
import { HttpError, messages } from './errors.ts';

const MINUTE_MS = 60_000;

export type ThrottleKind = 'concurrent' | 'timed';

export function createThrottle(onThrottled: (namespace: string, kind: ThrottleKind) => void) {
  const recent = new Map<string, number[]>();
  const inFlight = new Map<string, number>();

  function invocationsLastMinute(ns: string, now: number): number[] {
    let times = recent.get(ns);
    if (!times) {
      times = [];
      recent.set(ns, times);
    }
    let expired = 0;
    while (expired < times.length && (times[expired] as number) <= now - MINUTE_MS) expired++;
    if (expired > 0) times.splice(0, expired);
    return times;
  }

  return {
    /** Admits one invocation or throws 429; an admitted one must be `done()` when it completes. */
    admit(ns: string, limits: Throttles): void {
      const now = Date.now();
      const concurrent = inFlight.get(ns) ?? 0;
      if (concurrent >= limits.concurrentInvocations) {
        onThrottled(ns, 'concurrent');
        throw new HttpError(429, messages.tooManyConcurrent(concurrent, limits.concurrentInvocations));
      }
      const times = invocationsLastMinute(ns, now);
      if (times.length >= limits.invocationsPerMinute) {
        onThrottled(ns, 'timed');
        throw new HttpError(429, messages.tooManyPerMinute(times.length, limits.invocationsPerMinute));
      }
      times.push(now);
      inFlight.set(ns, concurrent + 1);
    },
    done(ns: string): void {
      inFlight.set(ns, Math.max(0, (inFlight.get(ns) ?? 1) - 1));
    },
  };
}
export type Throttle = ReturnType<typeof createThrottle>;
