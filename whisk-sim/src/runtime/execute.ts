// Runs one activation in the container pool, as the invoker's ContainerProxy does: lease a container
// (cold start ⇒ the container's start, counted as waitTime, then /init, timed as initTime and bounded by
// the action's time limit), /run with the __OW_* fields, classify the result into the
// four activation statuses, keep the container warm unless the action misbehaved, collect the logs.
import { type Activation, type ActivationResponse, type ActivationStatus, STATUS } from '../activations.ts';
import { type Action, annotation, type KeyValue } from '../entities/actions.ts';
import { messages } from '../errors.ts';
import { isRunnable } from '../runtimes.ts';
import type { Outcome } from './container.ts';
import type { Pool } from './pool.ts';

export interface ExecuteRequest {
  action: Action;
  args: unknown;
  activationId: string;
  transactionId: string;
  /** The invoking namespace and its credentials (`uuid:key`), for `__OW_API_KEY`. */
  initiator: string;
  subject: string;
  apiKey: string;
  receivedAt: number;
  /** Environment the deployment gives the action's containers. */
  containerEnv?: Record<string, string>;
}

export interface Executed {
  /** The record with `logs: []`; the stored one gets its logs in `stored`. */
  activation: Activation;
  cold: boolean;
  waitMs: number;
  initMs?: number;
  /** Resolves once the logs are collected and the container is back in the pool. */
  stored: Promise<Activation>;
}

const MB = 1024 * 1024;

function respond(
  status: ActivationStatus,
  result: unknown,
  size = JSON.stringify(result).length,
): ActivationResponse {
  return { ...status, success: status.statusCode === 0, result, size };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** The /run reply as an activation response (ActivationResponse.processRunResponseContent). */
function runResponse(outcome: Outcome, timeoutMs: number, maxResultBytes: number): ActivationResponse {
  if (outcome.kind === 'timeout')
    return respond(STATUS.developerError, { error: messages.timedOut(timeoutMs) });
  if (outcome.kind === 'exited') {
    return respond(STATUS.developerError, {
      error: outcome.oom ? messages.memoryExhausted : messages.exitedUnexpectedly,
    });
  }
  const size = Buffer.byteLength(outcome.body);
  const result = parseJson(outcome.body);
  if (outcome.status === 200 && size > maxResultBytes) {
    return respond(STATUS.applicationError, { error: messages.resultTooLarge(size, maxResultBytes) });
  }
  if (outcome.status === 200 && isObject(result)) {
    const failed = !Array.isArray(result) && 'error' in result;
    return respond(failed ? STATUS.applicationError : STATUS.success, result, size);
  }
  if (isObject(result) && 'error' in result) return respond(STATUS.developerError, result, size);
  return respond(STATUS.developerError, {
    error: 'The action did not produce a valid JSON or JSON Array response.',
  });
}

/** The /init reply as a failure response, or undefined when the container is ready. */
function initFailure(outcome: Outcome, timeoutMs: number): ActivationResponse | undefined {
  if (outcome.kind === 'reply' && outcome.status === 200) return undefined;
  if (outcome.kind === 'timeout')
    return respond(STATUS.developerError, { error: messages.timedOutInit(timeoutMs) });
  if (outcome.kind === 'exited') {
    return respond(STATUS.developerError, {
      error: outcome.oom ? messages.memoryExhausted : messages.exitedUnexpectedly,
    });
  }
  const body = parseJson(outcome.body);
  if (isObject(body) && typeof body.error === 'string')
    return respond(STATUS.developerError, { error: body.error });
  return respond(STATUS.developerError, {
    error: `The action failed during initialization: ${outcome.body}`,
  });
}

/** Parameter values are strings in the environment: null → "", objects → JSON. */
function envValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function createExecutor(opts: {
  pool: Pool;
  maxResultBytes: number;
  containerStartTimeoutMs: number;
}) {
  return async function execute(req: ExecuteRequest): Promise<Executed> {
    const { action } = req;
    const { timeout, memory, logs: logsMb } = action.limits;
    const path = `${action.namespace}/${action.name}`;
    const baseAnnotations = (extra: KeyValue[]): KeyValue[] => [
      { key: 'path', value: path },
      { key: 'waitTime', value: waitMs },
      { key: 'kind', value: action.exec.kind },
      ...extra,
      { key: 'limits', value: action.limits },
    ];
    const record = (start: number, response: ActivationResponse, extra: KeyValue[]): Activation => {
      const end = Date.now();
      return {
        namespace: req.initiator,
        name: action.name,
        subject: req.subject,
        activationId: req.activationId,
        start,
        end,
        duration: end - start,
        response,
        logs: [],
        version: action.version,
        publish: false,
        annotations: baseAnnotations(extra),
      };
    };

    let waitMs = 0;
    if (!isRunnable(action.exec.kind)) {
      const activation = record(
        Date.now(),
        respond(STATUS.developerError, {
          error: `The action failed during initialization: whisk-sim runs only nodejs kinds, not '${action.exec.kind}'.`,
        }),
        [{ key: 'timeout', value: false }],
      );
      return { activation, cold: false, waitMs, stored: Promise.resolve(activation) };
    }

    // A new version or new code never reuses an old container.
    const key = `${path}@${action.version}#${action.updated}`;
    let lease: Awaited<ReturnType<Pool['acquire']>>;
    try {
      lease = await opts.pool.acquire(key, memory, req.containerEnv);
    } catch (err) {
      const activation = record(
        Date.now(),
        respond(STATUS.internalError, { error: (err as Error).message }),
        [{ key: 'timeout', value: false }],
      );
      return { activation, cold: false, waitMs, stored: Promise.resolve(activation) };
    }
    const { container, cold } = lease;
    if (cold) {
      const boot = await container.started(opts.containerStartTimeoutMs);
      if (boot.kind !== 'reply') {
        opts.pool.release(container, false);
        waitMs = Date.now() - req.receivedAt;
        const error =
          boot.kind === 'timeout'
            ? messages.containerStart(opts.containerStartTimeoutMs)
            : messages.containerExited;
        const activation = record(Date.now(), respond(STATUS.internalError, { error }), [
          { key: 'timeout', value: false },
        ]);
        return { activation, cold, waitMs, stored: Promise.resolve(activation) };
      }
    }
    const start = Date.now();
    waitMs = start - req.receivedAt;
    const provideKey = Boolean(annotation(action, 'provide-api-key'));
    const fields = {
      namespace: req.initiator,
      action_name: `/${path}`,
      action_version: action.version,
      activation_id: req.activationId,
      transaction_id: req.transactionId,
      deadline: String(start + timeout),
      ...(provideKey ? { api_key: req.apiKey } : {}),
    };

    let initMs: number | undefined;
    let response: ActivationResponse | undefined;
    let timedOut = false;
    if (cold) {
      const env: Record<string, string> = {};
      for (const p of action.parameters) if (p.init) env[p.key] = envValue(p.value);
      for (const [k, v] of Object.entries(fields)) env[`__OW_${k.toUpperCase()}`] = v;
      const initStart = Date.now();
      const outcome = await container.init(
        {
          name: action.name,
          main: action.exec.main ?? 'main',
          code: action.exec.code,
          binary: action.exec.binary,
          env,
        },
        timeout,
      );
      initMs = Date.now() - initStart;
      response = initFailure(outcome, timeout);
      timedOut = outcome.kind === 'timeout';
    }
    if (!response) {
      const outcome = await container.run({ value: req.args, ...fields }, timeout, logsMb * MB);
      response = runResponse(outcome, timeout, opts.maxResultBytes);
      timedOut = outcome.kind === 'timeout';
    }
    const extra: KeyValue[] = [{ key: 'timeout', value: timedOut }];
    if (initMs !== undefined) extra.push({ key: 'initTime', value: initMs });
    const activation = record(start, response, extra);
    const healthy = response.statusCode < STATUS.developerError.statusCode;
    // A misbehaving container is killed before its logs are taken: its exit ends them.
    if (!healthy) container.destroy();
    const stored = container.takeLogs().then((logs) => {
      opts.pool.release(container, healthy);
      return { ...activation, logs };
    });
    return { activation, cold, waitMs, ...(initMs !== undefined ? { initMs } : {}), stored };
  };
}
export type Execute = ReturnType<typeof createExecutor>;
