// Turns an app's OpenWhisk action into its secure form: one plain script (the wrapper runtime and the
// envelope, bundled by esbuild once per process; only node: built-ins) that embeds the app's source,
// entry point and bound parameters, so real OpenWhisk's nodejs runtime runs it as is. The wrapper's
// settings (and, per host, its wrapper secret) travel as `init` parameters — in the container's environment, never in `main`'s
// arguments — and the action is a web action with `final` parameters, so a caller can override none.
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

export interface ActionShape {
  exec: { kind: string; code: string; main: string };
  parameters: { key: string; value: unknown; init?: boolean }[];
  annotations: { key: string; value: unknown }[];
}

export interface WrapperSettings {
  /** PEM of the CA that signed the host SAEs' server certificates. */
  hostSaeCa: string;
  /** N of the key-use policy (MecApp placement.invocationsPerKey). */
  invocationsPerKey: number;
  /** The MecApp's placement.expectedInvocationsPerSecond: with N, the host SAE's key allowance. */
  expectedInvocationsPerSecond: number;
}

// Resolved through the package, so that the operator's bundle (operator/dist) finds it too.
const RUNTIME = fileURLToPath(import.meta.resolve('@mecqkd/host-sae/wrapper/runtime'));
const GLOBAL = '__mecqkdWrapper';
let runtime: string | undefined;

/** The bundled wrapper runtime (memoised): defines `var __mecqkdWrapper`. */
export function wrapperRuntime(): string {
  if (runtime) return runtime;
  const out = buildSync({
    entryPoints: [RUNTIME],
    bundle: true,
    platform: 'node',
    format: 'iife',
    globalName: GLOBAL,
    target: 'node18',
    minify: true,
    legalComments: 'none',
    write: false,
  });
  const code = out.outputFiles[0]?.text;
  if (!code) throw new Error(`bundling ${RUNTIME} produced no output`);
  // A directive prologue would make the runtime's eval strict, and `main` then invisible to it.
  runtime = code.replace(/^"use strict";/, '');
  return runtime;
}

/**
 * The wrapped action as every host gets it; `bindWrapperSecret` adds the one host's secret when it
 * is deployed there (host-independent otherwise, so one action name serves all hosts).
 */
export function wrapAction<T extends ActionShape>(body: T, settings: WrapperSettings): T {
  const app = {
    source: body.exec.code,
    main: body.exec.main,
    parameters: Object.fromEntries(body.parameters.filter((p) => !p.init).map((p) => [p.key, p.value])),
  };
  const code = [
    wrapperRuntime(),
    `var __mecqkdApp = ${JSON.stringify(app)};`,
    `function main(params) { return ${GLOBAL}.run(__mecqkdApp, params); }`,
  ].join('\n');
  return {
    ...body,
    exec: { ...body.exec, code, main: 'main' },
    parameters: [
      { key: 'MECQKD_HOST_SAE_CA', value: settings.hostSaeCa, init: true },
      { key: 'MECQKD_INVOCATIONS_PER_KEY', value: String(settings.invocationsPerKey), init: true },
      {
        key: 'MECQKD_EXPECTED_INVOCATIONS_PER_SECOND',
        value: String(settings.expectedInvocationsPerSecond),
        init: true,
      },
    ],
    annotations: [
      ...body.annotations.filter((a) => !['web-export', 'final', 'raw-http'].includes(a.key)),
      { key: 'web-export', value: true },
      { key: 'final', value: true },
    ],
  };
}

/** The action as deployed on one host: with that host's wrapper secret (wrapper-secret.ts). */
export function bindWrapperSecret<T extends ActionShape>(body: T, secret: string): T {
  return {
    ...body,
    parameters: [
      ...body.parameters.filter((p) => p.key !== 'MECQKD_WRAPPER_SECRET'),
      { key: 'MECQKD_WRAPPER_SECRET', value: secret, init: true },
    ],
  };
}
