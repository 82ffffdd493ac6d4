// The action wrapper, as it runs inside an OpenWhisk nodejs container (bundled by bundle.ts to one
// script with no npm dependencies). Per activation: check the request envelope, ask the host SAE
// for the two keys derived for its header (proving itself with the wrapper secret), decrypt, run the
// app's `main` on exactly the decrypted arguments (plus the app's own bound parameters), and answer
// with the result — or the app's error — sealed in the response envelope. Anything that goes wrong
// before that answers an OpenWhisk application error `{error: {reason, message}}` naming the
// envelope field or the SAE's reason: never arguments, results or keys.
import { Agent, request } from 'node:https';
import {
  checkHeader,
  type Envelope,
  EnvelopeError,
  headerOf,
  open,
  parseEnvelope,
  type RejectReason,
  responseHeader,
  seal,
} from '@mecqkd/sdk/envelope';

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
  // Where the host SAE is: the Kubernetes service-link variables of a Service `mecqkd-host-sae` in
  // the OpenWhisk namespace (whisk-sim gives containers the same variables).
  host: 'MECQKD_HOST_SAE_SERVICE_HOST',
  port: 'MECQKD_HOST_SAE_SERVICE_PORT',
} as const;

class WrapperError extends Error {
  constructor(
    readonly reason: RejectReason | 'host-sae-unavailable' | 'misconfigured',
    message: string,
  ) {
    super(message);
  }
}

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new WrapperError('misconfigured', `the action wrapper lacks ${name}`);
  return v;
}

let agent: Agent | undefined;

// async: a missing setting rejects like any other failure instead of throwing past callers.
async function post(path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  agent ??= new Agent({ keepAlive: true, ca: env(ENV.ca), maxSockets: 4 });
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: env(ENV.host),
        port: Number(env(ENV.port)),
        path,
        method: 'POST',
        agent,
        timeout: 10_000,
        headers: {
          authorization: `Bearer ${env(ENV.secret)}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('the host SAE did not answer in time')));
    req.on('error', (err) => reject(new WrapperError('host-sae-unavailable', `host SAE: ${err.message}`)));
    req.end(payload);
  });
}

async function derivedKeys(e: Envelope, invocationsPerKey: number): Promise<{ req: Buffer; res: Buffer }> {
  const { status, json } = await post('/v1/derive', { header: headerOf(e), invocationsPerKey });
  const body = (json ?? {}) as {
    requestKey?: string;
    responseKey?: string;
    reason?: RejectReason;
    detail?: string;
  };
  if (status === 200 && body.requestKey && body.responseKey)
    return { req: Buffer.from(body.requestKey, 'base64'), res: Buffer.from(body.responseKey, 'base64') };
  if (body.reason) throw new WrapperError(body.reason, body.detail ?? 'refused by the host SAE');
  throw new WrapperError('host-sae-unavailable', `the host SAE answered HTTP ${status}`);
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
  post('/v1/failures', { reason }).catch(() => undefined);
}

export async function run(app: AppBundle, params: Record<string, unknown>): Promise<unknown> {
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
    keys = await derivedKeys(e, invocationsPerKey);
    const t1 = performance.now();
    const args = open(keys.req, e);
    const t2 = performance.now();
    const outcome = await runApp(app, args);
    const t3 = performance.now();
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
    if (err instanceof WrapperError) return { error: { reason: err.reason, message: err.message } };
    return { error: { reason: 'internal', message: 'the action wrapper failed' } };
  } finally {
    keys?.req.fill(0);
    keys?.res.fill(0);
  }
}
