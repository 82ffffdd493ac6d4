// The action wrapper, as it runs inside an OpenWhisk nodejs container (bundled by bundle.ts to one
// script with no npm dependencies). Per activation: check the request envelope, ask the host SAE
// for the two keys derived for its header (proving itself with the wrapper secret), decrypt, run the
// app's `main` on exactly the decrypted arguments (plus the app's own bound parameters), and answer
// with the result — or the app's error — sealed in the response envelope. Anything that goes wrong
// before that answers an OpenWhisk application error `{error: {reason, message}}` naming the
// envelope field or the SAE's reason: never arguments, results or keys.
import { parseTraceparent } from '@mecqkd/common/trace';
import {
  checkHeader,
  type Envelope,
  EnvelopeError,
  type EnvelopeHeader,
  headerOf,
  open,
  parseEnvelope,
  responseHeader,
  seal,
} from '@mecqkd/sdk/envelope';
import { openChannel, type Reply, type SaeChannel, WrapperError } from '../channel-client.ts';
import { MAX_AHEAD } from '../frames.ts';
import { createKeysAhead } from './keys-ahead.ts';

export interface AppBundle {
  /** The app's action source and the name of its entry point. */
  source: string;
  main: string;
  /** The MecApp's bound (non-secret) parameters, under the decrypted arguments. */
  parameters: Record<string, unknown>;
}

type Main = (params: unknown) => unknown;

/** Set by the operator as `init` parameters (environment, never `main`'s arguments). */
const ENV = {
  secret: 'MECQKD_WRAPPER_SECRET',
  ca: 'MECQKD_HOST_SAE_CA',
  invocationsPerKey: 'MECQKD_INVOCATIONS_PER_KEY',
  // the MecApp's declared demand: with N, the host SAE's key allowance per context
  expectedInvocationsPerSecond: 'MECQKD_EXPECTED_INVOCATIONS_PER_SECOND',
  // Where the host SAE is: the Kubernetes service-link variables of a Service `mecqkd-host-sae` in
  // the OpenWhisk namespace (whisk-sim gives containers the same variables).
  // optional: keys ahead to ask for (default AHEAD; 0: one host SAE round trip per invocation)
  keysAhead: 'MECQKD_KEYS_AHEAD',
  host: 'MECQKD_HOST_SAE_SERVICE_HOST',
  port: 'MECQKD_HOST_SAE_SERVICE_PORT',
} as const;

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new WrapperError('misconfigured', `the action wrapper lacks ${name}`);
  return v;
}

/**
 * Keys of the next invocations asked for with each derive: a container serving a client's stream
 * asks the host SAE once per this many invocations instead of once per invocation. Each one is
 * reported to the SAE as it is taken, before it is used, so when a container dies the SAE serves
 * the ones it never took to the container that gets the stream next.
 */
const AHEAD = 16;

const keysAhead = () => {
  const v = Number(process.env[ENV.keysAhead] ?? AHEAD);
  return Number.isInteger(v) ? Math.max(0, Math.min(v, MAX_AHEAD)) : AHEAD;
};

let channel: SaeChannel | undefined;
const ahead = createKeysAhead();

// async: a missing setting rejects like any other failure instead of throwing past callers.
async function call(frame: Record<string, unknown>): Promise<Reply> {
  if (!channel || channel.closed)
    channel = openChannel({
      host: env(ENV.host),
      port: Number(env(ENV.port)),
      ca: env(ENV.ca),
      secret: env(ENV.secret),
      onRelease: ahead.release,
      onAhead: (frame, given) => ahead.add(frame.header as EnvelopeHeader, given),
      // the SAE serves what this connection never reported to others once it ends
      onClose: ahead.releaseAll,
    });
  return channel.call(frame);
}

async function derivedKeys(
  e: Envelope,
  invocationsPerKey: number,
  traceparent: string | undefined,
): Promise<{ req: Buffer; res: Buffer }> {
  // Taken and reported before anything awaits: the SAE asking for it back meanwhile no longer finds
  // it unused, and it is used only once the report is on its way (else the SAE may serve it again).
  const held = ahead.take(e);
  if (held) {
    if (channel?.send({ op: 'used', keyId: e.keyId, seq: e.seq })) return held;
    held.req.fill(0);
    held.res.fill(0);
  }
  const header = headerOf(e);
  const reply = await call({
    op: 'derive',
    header,
    invocationsPerKey,
    expectedInvocationsPerSecond: Number(env(ENV.expectedInvocationsPerSecond)),
    // more only once none are left: so a container holds at most that many of a key
    ...(ahead.holds(e.keyId) || keysAhead() === 0 ? {} : { ahead: keysAhead() }),
    ...(traceparent ? { traceparent } : {}),
  });
  if (reply.requestKey && reply.responseKey)
    return { req: Buffer.from(reply.requestKey, 'base64'), res: Buffer.from(reply.responseKey, 'base64') };
  if (reply.error?.reason)
    throw new WrapperError(
      reply.error.reason,
      reply.error.detail ?? 'refused by the host SAE',
      reply.error.retryAfterMs,
    );
  throw new WrapperError('host-sae-unavailable', `the host SAE answered status ${reply.error?.status}`);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

let appMain: Main | undefined;

function loadApp(app: AppBundle): Main {
  if (appMain) return appMain;
  const module = { exports: {} as Record<string, unknown> };
  const req = typeof require === 'function' ? require : undefined;
  const factory = new Function(
    'require',
    'module',
    'exports',
    `${app.source}\n;return typeof ${app.main} === 'function' ? ${app.main} : undefined;`,
  ) as (...a: unknown[]) => Main | undefined;
  const found = factory(req, module, module.exports) ?? (module.exports[app.main] as Main | undefined);
  if (typeof found !== 'function')
    throw new WrapperError('misconfigured', `the app has no function ${app.main}`);
  appMain = found;
  return found;
}

/** The app's outcome as the response payload: `{result}` or `{error}`, both only ever sealed. */
async function runApp(app: AppBundle, args: unknown): Promise<unknown> {
  try {
    const result = await loadApp(app)({ ...app.parameters, ...(isRecord(args) ? args : {}) });
    if (isRecord(result) && 'error' in result) return { error: result.error };
    return { result: result ?? {} };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** Reports a failure seen here (not at the SAE) for its metrics; best effort. */
function report(reason: string): void {
  call({ op: 'failure', reason }).catch(() => undefined);
}

/** The caller's W3C traceparent, as the web action received it (lowercase header names). */
function traceparentOf(params: Record<string, unknown>): { header: string; traceId: string } | undefined {
  const headers = params.__ow_headers;
  const v = isRecord(headers) ? headers.traceparent : undefined;
  const parsed = typeof v === 'string' ? parseTraceparent(v) : undefined;
  return parsed ? { header: v as string, traceId: parsed.traceId } : undefined;
}

/** One JSON line into the activation's logs: identifiers only, never arguments, results or keys. */
function logInvocation(trace: { traceId: string } | undefined, e: Envelope, outcome: string): void {
  if (!trace) return;
  console.log(
    JSON.stringify({
      level: 'info',
      component: 'action-wrapper',
      message: 'Invocation',
      timestamp: new Date().toISOString(),
      traceId: trace.traceId,
      contextId: e.contextId,
      keyId: e.keyId,
      seq: e.seq,
      outcome,
    }),
  );
}

export async function run(app: AppBundle, params: Record<string, unknown>): Promise<unknown> {
  const trace = traceparentOf(params);
  const fields = Object.fromEntries(Object.entries(params).filter(([k]) => !k.startsWith('__ow_')));
  let keys: { req: Buffer; res: Buffer } | undefined;
  try {
    const invocationsPerKey = Number(env(ENV.invocationsPerKey));
    const action = (process.env.__OW_ACTION_NAME ?? '').split('/').pop() ?? '';
    const e = parseEnvelope(fields);
    const extra = Object.keys(fields).filter(
      (k) =>
        !['v', 'keyId', 'seq', 'contextId', 'action', 'clientSaeId', 'direction', 'iv', 'ct', 'tag'].includes(
          k,
        ),
    );
    // Only sealed arguments reach `main`: a request may not smuggle plaintext fields beside them.
    if (extra.length > 0) throw new EnvelopeError('malformed', `unexpected fields ${extra.join(', ')}`);
    checkHeader(e, { direction: 'request', invocationsPerKey, binding: { action } });
    const t0 = performance.now();
    keys = await derivedKeys(e, invocationsPerKey, trace?.header);
    const t1 = performance.now();
    const args = open(keys.req, e);
    const t2 = performance.now();
    const outcome = await runApp(app, args);
    const t3 = performance.now();
    logInvocation(trace, e, isRecord(outcome) && 'error' in outcome ? 'app-error' : 'ok');
    const sealed = seal(keys.res, responseHeader(e), outcome);
    // Durations beside the envelope, for a client to show the host's steps: not secret, and not
    // authenticated either (only shown, never acted on).
    const timings = { key: t1 - t0, open: t2 - t1, run: t3 - t2, seal: performance.now() - t3 };
    return { ...sealed, timings };
  } catch (err) {
    if (err instanceof EnvelopeError) {
      report(err.reason);
      return { error: { reason: err.reason, message: err.message } };
    }
    if (err instanceof WrapperError) {
      const hint = err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {};
      return { error: { reason: err.reason, message: err.message, ...hint } };
    }
    return { error: { reason: 'internal', message: 'the action wrapper failed' } };
  } finally {
    keys?.req.fill(0);
    keys?.res.fill(0);
  }
}
