// What the conformance suite talks to: the OpenWhisk named by __OW_API_HOST, __OW_API_KEY,
// __OW_NAMESPACE and __OW_INSECURE (the openwhisk client's own variables), or, when __OW_API_HOST is
// unset, a whisk-sim started once for the whole run. Throttle tests need a second namespace with low
// limits (__OW_THROTTLED_API_KEY, e.g. set up with `wskadmin limits set`); without it they are skipped.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import openwhisk from 'openwhisk';
import { startWhiskSim } from '../../src/testbed.ts';

export interface Target {
  apihost: string;
  apiKey: string;
  namespace: string;
  insecure: boolean;
  /** A namespace allowed few invocations (per minute and concurrently), for the 429 tests. */
  throttled?: { apiKey: string; perMinute: number; concurrent: number };
  /** True when the suite started the target itself (whisk-sim). */
  local: boolean;
}

export const THROTTLED_PER_MINUTE = 4;
export const THROTTLED_CONCURRENT = 2;

let target: Promise<Target> | undefined;

async function fromEnvironment(host: string): Promise<Target> {
  const apiKey = process.env.__OW_API_KEY;
  if (!apiKey) throw new Error('__OW_API_HOST is set but __OW_API_KEY is not');
  const throttledKey = process.env.__OW_THROTTLED_API_KEY;
  return {
    apihost: /^https?:\/\//.test(host) ? host : `https://${host}`,
    apiKey,
    namespace: process.env.__OW_NAMESPACE ?? '_',
    insecure: process.env.__OW_INSECURE === 'true',
    ...(throttledKey
      ? {
          throttled: {
            apiKey: throttledKey,
            perMinute: Number(process.env.__OW_THROTTLED_PER_MINUTE ?? THROTTLED_PER_MINUTE),
            concurrent: Number(process.env.__OW_THROTTLED_CONCURRENT ?? THROTTLED_CONCURRENT),
          },
        }
      : {}),
    local: false,
  };
}

async function localWhiskSim(): Promise<Target> {
  const sim = await startWhiskSim({
    dir: join(tmpdir(), `whisk-sim-conformance-${process.pid}`),
    name: 'whisk-sim-conformance',
    extraNamespaces: [
      {
        name: 'throttled',
        throttles: {
          invocationsPerMinute: THROTTLED_PER_MINUTE,
          concurrentInvocations: THROTTLED_CONCURRENT,
        },
      },
    ],
  });
  const throttled = sim.extra[0];
  return {
    apihost: sim.apiHost,
    apiKey: sim.auth,
    namespace: sim.namespace,
    insecure: sim.insecure,
    ...(throttled
      ? {
          throttled: {
            apiKey: throttled.auth,
            perMinute: THROTTLED_PER_MINUTE,
            concurrent: THROTTLED_CONCURRENT,
          },
        }
      : {}),
    local: true,
  };
}

export function getTarget(): Promise<Target> {
  const host = process.env.__OW_API_HOST;
  target ??= host ? fromEnvironment(host) : localWhiskSim();
  return target;
}

/** A client for the target; with another key it addresses that key's own namespace (`_`). */
export function client(t: Target, apiKey = t.apiKey) {
  const namespace = apiKey === t.apiKey ? t.namespace : '_';
  return openwhisk({ apihost: t.apihost, api_key: apiKey, namespace, ignore_certs: t.insecure });
}
export type Client = ReturnType<typeof client>;

/** Names unique to this run, so the suite can share a real OpenWhisk with other users. */
export function uniqueName(prefix: string): string {
  return `conf-${prefix}-${randomBytes(4).toString('hex')}`;
}
