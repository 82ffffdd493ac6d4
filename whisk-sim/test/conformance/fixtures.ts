// Action code used by the conformance suite, and helpers that create actions and wait for records.
import type { Client } from './target.ts';

export const code = {
  echo: 'function main(params) { return params; }',
  hello:
    'function main(params) { console.log("hello", params.name); console.error("to stderr"); return { greeting: "Hello " + params.name }; }',
  array: 'function main() { return [1, 2, 3]; }',
  appError: 'function main() { return { error: "bad input" }; }',
  thrown: 'function main() { throw new Error("boom"); }',
  rejected: 'function main() { return Promise.reject(new Error("async boom")); }',
  string: 'function main() { return "not a dictionary"; }',
  asyncValue: 'function main(p) { return new Promise((r) => setTimeout(() => r({ waited: p.ms }), p.ms)); }',
  sleep: 'function main(p) { return new Promise((r) => setTimeout(() => r({ slept: p.ms }), p.ms)); }',
  env: `function main(params) {
    const env = {};
    for (const [k, v] of Object.entries(process.env)) if (k.startsWith('__OW_')) env[k] = v;
    env.SECRET_FROM_INIT = process.env.SECRET_FROM_INIT;
    return { env, params };
  }`,
  exportsMain: 'exports.main = function (p) { return { via: "exports", p }; };',
  noMain: 'function notMain() { return {}; }',
  syntaxError: 'function main( { return {}; }',
};

export type OwClient = Client;

/** Creates (or overwrites) an action and remembers it for `cleanup`. */
export function createTracker(ow: Client) {
  const created = new Set<string>();
  return {
    async deploy(name: string, action: string, extra: Record<string, unknown> = {}) {
      created.add(name);
      return ow.actions.update({ name, action, ...extra });
    },
    track(name: string) {
      created.add(name);
    },
    async cleanup() {
      for (const name of created) await ow.actions.delete({ name }).catch(() => undefined);
    },
  };
}

/** Activation records are stored asynchronously: 404 means "not yet". */
export async function waitForActivation(ow: Client, activationId: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await ow.activations.get({ name: activationId });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404 || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export function annotationValue(
  record: { annotations?: { key: string; value: unknown }[] },
  key: string,
): unknown {
  return record.annotations?.find((a) => a.key === key)?.value;
}

/** Resolves with the error `p` rejects with (typed by the caller); throws when `p` succeeds. */
export async function expectFailure<E>(p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (err) {
    return err as E;
  }
  throw new Error('expected the call to fail');
}
