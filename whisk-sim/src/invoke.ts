// POST …/actions/{name}: the controller's side of an invocation. Checks payload size, `final`
// parameters, the invoke query and the namespace throttles, then answers with OpenWhisk's outcome
// matrix: 202 {activationId} when non-blocking or not finished within `timeout`; otherwise 200
// (success), 502 (application or developer error) or 500 (internal error), with the full record or,
// with `result=true`, the bare result. Every answer carries `x-openwhisk-activation-id`.
import type { Logger } from '@mecqkd/common/logger';
import {
  type Activation,
  type ActivationStore,
  newActivationId,
  recordView,
  STATUS,
  STATUS_LABEL,
} from './activations.ts';
import type { Config, NamespaceConfig } from './config.ts';
import { throttlesFor } from './config.ts';
import type { Action } from './entities/actions.ts';
import { annotation } from './entities/actions.ts';
import { HttpError, messages } from './errors.ts';
import type { Metrics } from './metrics.ts';
import type { Execute } from './runtime/execute.ts';
import type { Throttle } from './throttle.ts';

export interface InvokeRequest {
  caller: NamespaceConfig;
  action: Action;
  body: Buffer;
  query: URLSearchParams;
  transactionId: string;
}

export interface ActivateRequest {
  caller: NamespaceConfig;
  action: Action;
  /** The merged arguments `main` receives. */
  args: unknown;
  transactionId: string;
  /** How long to wait for the outcome, ms; 0 = do not wait. */
  waitMs: number;
}

export interface Reply {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export interface InvokerDeps {
  config: Config;
  execute: Execute;
  activations: ActivationStore;
  throttle: Throttle;
  metrics: Metrics;
  logger: Logger;
}

const HTTP_STATUS_OF: Record<number, number> = { 0: 200, 1: 502, 2: 502, 3: 500 };

function parseArgs(body: Buffer): Record<string, unknown> | unknown[] {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, messages.malformed((err as Error).message));
  }
  if (typeof value !== 'object' || value === null) {
    throw new HttpError(400, messages.malformed('the arguments must be a JSON object or array'));
  }
  return value as Record<string, unknown> | unknown[];
}

function blockingWait(query: URLSearchParams, max: number): number {
  const raw = query.get('timeout');
  if (raw === null) return max;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(ms > 0 && ms <= max)) throw new HttpError(400, messages.badTimeout(max));
  return ms;
}

/** Arguments = action parameters (without `init` ones) ⊕ request body; a JSON array is passed as is. */
export function mergeArgs(action: Action, args: Record<string, unknown> | unknown[]): unknown {
  if (Array.isArray(args)) return args;
  const bound = action.parameters.filter((p) => !p.init);
  if (annotation(action, 'final') === true) {
    const fixed = new Set(bound.filter((p) => p.value !== undefined).map((p) => p.key));
    if (Object.keys(args).some((k) => fixed.has(k))) throw new HttpError(400, messages.finalParams);
  }
  return { ...Object.fromEntries(bound.map((p) => [p.key, p.value])), ...args };
}

export function createInvoker(deps: InvokerDeps) {
  const { config } = deps;
  let inflightCount = 0;
  let inflightMemoryMb = 0;

  const invoker = {
    inflight: () => ({ count: inflightCount, memoryMb: inflightMemoryMb }),

    /**
     * Runs `args` through `action` for `caller` and waits up to `waitMs`: the activation record, or
     * only its id when it did not finish in time (the caller answers 202). REST and web invocations
     * both come here, so throttles, metrics and records are the same for both.
     */
    async activate(req: ActivateRequest): Promise<{ activationId: string; activation?: Activation }> {
      const { action, caller } = req;
      deps.throttle.admit(caller.name, throttlesFor(config, caller));
      const runtime = action.exec.kind;
      const receivedAt = Date.now();
      const activationId = newActivationId();
      const memoryMb = action.limits.memory;
      inflightCount++;
      inflightMemoryMb += memoryMb;
      deps.metrics.scheduled();
      const finished = deps
        .execute({
          action,
          args: req.args,
          activationId,
          transactionId: req.transactionId,
          initiator: caller.name,
          subject: caller.subject ?? caller.name,
          apiKey: `${caller.uuid}:${caller.key}`,
          receivedAt,
          containerEnv: config.namespaces.find((n) => n.name === action.namespace)?.containerEnv ?? {},
        })
        .finally(() => {
          inflightCount--;
          inflightMemoryMb -= memoryMb;
          deps.throttle.done(caller.name);
        });
      finished.then(
        (done) => {
          const { activation } = done;
          deps.metrics.completed({
            namespace: action.namespace,
            initiator: caller.name,
            action: action.name,
            kind: runtime,
            memoryMb,
            status: STATUS_LABEL[activation.response.statusCode] as string,
            cold: done.cold,
            waitMs: done.waitMs,
            ...(done.initMs !== undefined ? { initMs: done.initMs } : {}),
            durationMs: activation.duration,
            responseBytes: activation.response.size,
          });
          return done.stored.then((stored) => deps.activations.add(stored));
        },
        (err: Error) =>
          deps.logger.error('activation failed inside whisk-sim', { activationId, error: err.message }),
      );
      if (req.waitMs === 0) return { activationId };
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        finished.then((done) => done.activation),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), req.waitMs);
        }),
      ]);
      clearTimeout(timer);
      if (!outcome) return { activationId };
      deps.metrics.blockingFinished(Date.now() - receivedAt);
      if (outcome.response.statusCode === STATUS.internalError.statusCode) {
        deps.logger.warn('whisk internal error', { activationId, result: outcome.response.result });
      }
      return { activationId, activation: outcome };
    },

    async invoke(req: InvokeRequest): Promise<Reply> {
      const { action } = req;
      const maxPayload = config.limits.maxPayloadBytes;
      if (req.body.length > maxPayload) {
        throw new HttpError(413, messages.payloadTooLarge(req.body.length, maxPayload));
      }
      const blocking = req.query.get('blocking') === 'true';
      const resultOnly = req.query.get('result') === 'true';
      const waitMs = blockingWait(req.query, config.limits.maxBlockingWaitMs);
      const args = mergeArgs(action, parseArgs(req.body));
      const { activationId, activation } = await invoker.activate({
        caller: req.caller,
        action,
        args,
        transactionId: req.transactionId,
        waitMs: blocking ? waitMs : 0,
      });
      const headers = { 'x-openwhisk-activation-id': activationId };
      if (!activation) return { status: 202, body: { activationId }, headers };
      const status = HTTP_STATUS_OF[activation.response.statusCode] ?? 500;
      return { status, body: resultOnly ? activation.response.result : recordView(activation), headers };
    },
  };
  return invoker;
}
export type Invoker = ReturnType<typeof createInvoker>;
