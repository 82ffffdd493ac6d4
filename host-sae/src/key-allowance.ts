// The host SAE's enforcement of the per-context key allowance (the rule and its pure twin:
// sdk/src/key-allowance.ts). Asked once per new key ID — before dec_keys, so a refused key stays at
// the host KME and serves once the context is back within its allowance — never per invocation.
// The state is one number per (host SAE, context) in Redis, moved by a Lua script so concurrent
// derives and SAE restarts see one history, and it expires once it says nothing any more. Only a
// timestamp per context is stored: no key IDs, no key material.
//
// A Redis that cannot answer admits the key (counted, logged once per outage): the limit protects
// the link's availability for other contexts, and failing closed would turn a Redis outage into
// an outage of every context that needs a new key.
import type { Logger } from '@mecqkd/common/logger';
import {
  gcraParameters,
  type KeyAllowance,
  type KeyDecision,
  type KeyDemand,
  keyAllowance,
} from '@mecqkd/sdk/key-allowance';
import { Redis } from 'ioredis';
import type { HostSaeMetrics } from './metrics.ts';

// The arithmetic of admitKey, in the same order, on the same doubles (%.17g round-trips them), so
// the script and the pure rule decide alike (tested).
const SCRIPT = `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local nxt = tat + interval
local ahead = nxt - now
if ahead > tolerance then return {0, string.format('%.17g', ahead - tolerance)} end
redis.call('SET', KEYS[1], string.format('%.17g', nxt), 'PX', math.ceil(ahead))
return {1, string.format('%.17g', nxt)}
`;

type ScriptRedis = Redis & {
  mecqkdKeyAllowance(
    key: string,
    now: string,
    interval: string,
    tolerance: string,
  ): Promise<[number, string]>;
};

export interface KeyAllowanceGate {
  /** The decision for one more new key of `contextId` at `now` (ms), recorded when admitted. */
  admit(contextId: string, allowance: KeyAllowance, now?: number): Promise<KeyDecision>;
  keyOf(contextId: string): string;
}

export function createKeyAllowanceGate(redis: Redis, saeId: string): KeyAllowanceGate {
  const r = redis as ScriptRedis;
  if (typeof r.mecqkdKeyAllowance !== 'function')
    redis.defineCommand('mecqkdKeyAllowance', { numberOfKeys: 1, lua: SCRIPT });
  const keyOf = (contextId: string) => `mecqkd:host-sae:${saeId}:key-allowance:${contextId}`;
  return {
    keyOf,
    async admit(contextId, allowance, now = Date.now()) {
      const { intervalMs, toleranceMs } = gcraParameters(allowance);
      const [ok, value] = await r.mecqkdKeyAllowance(
        keyOf(contextId),
        String(now),
        String(intervalMs),
        String(toleranceMs),
      );
      return ok === 1
        ? { ok: true, tat: Number(value) }
        : { ok: false, retryAfterMs: Math.ceil(Number(value)) };
    },
  };
}

export type NewKeyVerdict = { ok: true } | { ok: false; retryAfterMs: number; allowance: KeyAllowance };

export interface KeyAllowanceCheck {
  /** Whether `contextId` may take one more new key, given its app's declared demand. */
  newKey(contextId: string, demand: KeyDemand): Promise<NewKeyVerdict>;
  /** Resolves once Redis answers, or after `timeoutMs` (the check then admits until it does). */
  ready(timeoutMs: number): Promise<void>;
  close(): void;
}

/** How often a context still being refused is logged again. */
const REFUSAL_LOG_MS = 60_000;

export function createKeyAllowanceCheck(opts: {
  redisUrl: string;
  saeId: string;
  metrics: HostSaeMetrics;
  logger: Logger;
}): KeyAllowanceCheck {
  // No offline queue: while Redis is away a check fails at once (and admits) instead of waiting.
  const redis = new Redis(opts.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // reported through the checks that fail
  const gate = createKeyAllowanceGate(redis, opts.saeId);
  let outage = false;
  const lastLogged = new Map<string, number>();

  const logRefusal = (contextId: string, allowance: KeyAllowance, retryAfterMs: number) => {
    const t = Date.now();
    if (t - (lastLogged.get(contextId) ?? 0) < REFUSAL_LOG_MS) return;
    if (lastLogged.size > 10_000) lastLogged.clear();
    lastLogged.set(contextId, t);
    opts.logger.warn('a context takes new QKD keys faster than its allowance', {
      contextId,
      keysPerSecond: allowance.keysPerSecond,
      burst: allowance.burst,
      retryAfterMs,
    });
  };

  return {
    async newKey(contextId, demand) {
      const allowance = keyAllowance(demand);
      let d: KeyDecision;
      try {
        d = await gate.admit(contextId, allowance);
      } catch (err) {
        opts.metrics.keyAllowanceUnchecked.inc();
        if (!outage)
          opts.logger.warn('key allowance unchecked: Redis does not answer; new keys are admitted', {
            error: (err as Error).message,
          });
        outage = true;
        return { ok: true };
      }
      if (outage) opts.logger.info('key allowance checked again: Redis answers');
      outage = false;
      if (d.ok) return { ok: true };
      logRefusal(contextId, allowance, d.retryAfterMs);
      return { ok: false, retryAfterMs: d.retryAfterMs, allowance };
    },
    ready: (timeoutMs) =>
      new Promise<void>((resolve) => {
        if (redis.status === 'ready') return resolve();
        const timer = setTimeout(done, timeoutMs);
        function done() {
          clearTimeout(timer);
          redis.off('ready', done);
          resolve();
        }
        redis.once('ready', done);
      }),
    close: () => redis.disconnect(),
  };
}
