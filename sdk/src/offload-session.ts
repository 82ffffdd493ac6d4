// One client app's use of one MEC app: an application context opened over Mx2 with the receiver's
// URL as callbackReference, its current address (referenceURI) and host QKD identity (host SAE ID
// for enc_keys), secure invocations against it, and transparent migration (migration.ts): the
// address is replaced when an AddressChange / ApplicationContextUpdate notification names another
// instance, and an invocation the old host provably did not run is sealed again for the new one.
// close() deletes the context.
import { EventEmitter } from 'node:events';
import { childTraceparent, newTraceId } from '@mecqkd/common/trace';
import type { Qkd014Client } from '@mecqkd/kme-sim/client';
import type { HttpClient } from './http.ts';
import { createKeySupply, type KeySupply } from './key-supply.ts';
import type { ClientMetrics } from './metrics.ts';
import { classifyFailure, type FailureKind, nextStep } from './migration.ts';
import type { Mx2Client } from './mx2-client.ts';
import type { LocationConstraints, Notification, PlacedInstance } from './mx2-schemas.ts';
import { type NotificationReceiver, startNotificationReceiver } from './notification-receiver.ts';
import { createSecureInvoker, type InvokeOutcome, type SecureInvoker } from './secure-invoke.ts';

export interface AppRef {
  appName: string;
  appProvider: string;
  appDVersion: string;
  appDId?: string;
  appSoftVersion?: string;
}

export interface OffloadSessionOptions {
  mx2: Mx2Client;
  app: AppRef;
  associateDevAppId: string;
  appLocation?: LocationConstraints;
  /** The client SAE's QKD 014 client (mutual TLS to the client KME) and its SAE ID. */
  kme: Qkd014Client;
  clientSaeId: string;
  /**
   * N of the MecApp's key-use policy (placement.invocationsPerKey), for an LCMP that does not say it:
   * the N the instance's QKD extension names wins (the host SAE enforces that one). Default 1.
   */
  invocationsPerKey?: number;
  /**
   * The MecApp's placement.expectedInvocationsPerSecond, for an LCMP that does not say it: new keys
   * are paced to its allowance (the instance's QKD extension wins here too).
   */
  expectedInvocationsPerSecond?: number;
  keyLifetimeMs?: number;
  spares?: number;
  keySizeBits?: number;
  /** Where notifications arrive; the session starts (and closes) one of its own when absent. */
  receiver?: NotificationReceiver;
  /** For referenceURIs over HTTPS with a private CA; global fetch otherwise. */
  http?: HttpClient;
  metrics?: ClientMetrics;
  /** How long a refused invocation waits for the context's new address (default 30 s). */
  migrationWaitMs?: number;
  /** Attempts per invocation, the first included (default 4). */
  maxAttempts?: number;
  /** The W3C trace the context's create and invocations belong to (default: a new one). */
  traceId?: string;
}

/** The instance invocations go to; `generation` counts address changes seen by this session. */
export interface InstanceTarget {
  generation: number;
  appInstanceId: string;
  referenceURI: string;
  hostSaeId: string;
  hostKmeId: string;
  /** Invocations per key at this instance, when the LCMP names it. */
  invocationsPerKey?: number;
  /** The declared demand the host's key allowance derives from, when the LCMP names it. */
  expectedInvocationsPerSecond?: number;
}

export interface AttemptRecord {
  generation: number;
  referenceURI: string;
  failure?: FailureKind;
  message?: string;
}

export interface SessionOutcome extends InvokeOutcome {
  contextId: string;
  /** The instance that answered. */
  instance: InstanceTarget;
  /** Every attempt, the answered one last; more than one means the call followed a migration. */
  attempts: AttemptRecord[];
}

export interface SessionEvents {
  /** A notification for this context, as received. */
  notification: [Notification];
  /** The session now invokes `to`. */
  migrated: [{ from: InstanceTarget; to: InstanceTarget; via: Notification['notificationType'] }];
  /** An attempt the old host provably did not run; it goes again once a newer address is known. */
  retrying: [{ from: InstanceTarget; failure: FailureKind }];
  /** The MEC system ended the context (ApplicationContextDeleteNotification). */
  deleted: [];
  /** A notification for this context that could not be applied (e.g. no host SAE named). */
  ignored: [{ notification: Notification; reason: string }];
}

/** The invocation did not run anywhere (stated, not guessed): the caller may send it again. */
export class NotExecuted extends Error {
  constructor(
    message: string,
    readonly attempts: AttemptRecord[],
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** The invocation failed in a way that may have run it: sending it again may run it twice. */
export class OutcomeUnknown extends Error {
  constructor(
    message: string,
    readonly attempts: AttemptRecord[],
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

export class ContextDeleted extends Error {}

interface Live {
  target: InstanceTarget;
  keys: KeySupply;
  invoker: SecureInvoker;
}

/** The instance as an invocation target, or why it cannot be one. */
export function instanceTarget(
  i: PlacedInstance,
  generation: number,
): { target: InstanceTarget } | { reason: string } {
  if (!i.vendorSpecificExt) return { reason: 'the instance names no host SAE (vendorSpecificExt)' };
  // envelopes go to web actions only: a notification cannot point invocations at file: or the like
  if (!/^https?:$/.test(new URL(i.referenceURI).protocol))
    return { reason: 'the referenceURI is not http(s)' };
  return {
    target: {
      generation,
      appInstanceId: i.appInstanceId,
      referenceURI: i.referenceURI,
      hostSaeId: i.vendorSpecificExt.hostSaeId,
      hostKmeId: i.vendorSpecificExt.hostKmeId,
      ...(i.vendorSpecificExt.invocationsPerKey !== undefined
        ? { invocationsPerKey: i.vendorSpecificExt.invocationsPerKey }
        : {}),
      ...(i.vendorSpecificExt.expectedInvocationsPerSecond !== undefined
        ? { expectedInvocationsPerSecond: i.vendorSpecificExt.expectedInvocationsPerSecond }
        : {}),
    },
  };
}

const sameInstance = (a: InstanceTarget, b: InstanceTarget) =>
  a.referenceURI === b.referenceURI && a.hostSaeId === b.hostSaeId && a.appInstanceId === b.appInstanceId;

/** The instance a notification names, if it names one. */
export function instanceOf(n: Notification): PlacedInstance | undefined {
  if (n.notificationType === 'AddressChangeNotification') {
    const { appInstanceId, referenceURI, vendorSpecificExt } = n;
    return { appInstanceId, referenceURI, ...(vendorSpecificExt ? { vendorSpecificExt } : {}) };
  }
  if (n.notificationType === 'ApplicationContextUpdateNotification') return n.userAppInstanceInfo[0];
  return undefined;
}

export interface OffloadSession extends EventEmitter<SessionEvents> {
  readonly contextId: string;
  /** What `mecqkd trace` follows through the logs of every component. */
  readonly traceId: string;
  /** The Location of the context at the LCMP. */
  readonly location: string;
  /** Where invocations go now. */
  target(): InstanceTarget;
  invoke(args: Record<string, unknown>): Promise<SessionOutcome>;
  stats(): ReturnType<SecureInvoker['stats']> & { migrations: number };
  /** Deletes the context (unless the system already did) and drops the keys. */
  close(): Promise<void>;
}

export async function openOffloadSession(opts: OffloadSessionOptions): Promise<OffloadSession> {
  const traceId = opts.traceId ?? newTraceId();
  const waitMs = opts.migrationWaitMs ?? 30_000;
  const maxAttempts = opts.maxAttempts ?? 4;
  const ownsReceiver = !opts.receiver;
  const receiver = opts.receiver ?? (await startNotificationReceiver());
  const emitter = new EventEmitter<SessionEvents>();
  // notifications may come before the 201 names the context: kept until then
  const early: Notification[] = [];
  let contextId: string | undefined;
  let live: Live | undefined;
  let deleted = false;
  let closed = false;
  let migrations = 0;
  const changed = new EventEmitter();
  const retired: SecureInvoker[] = [];

  const connect = (target: InstanceTarget): Live => {
    const n = target.invocationsPerKey ?? opts.invocationsPerKey ?? 1;
    const demand = target.expectedInvocationsPerSecond ?? opts.expectedInvocationsPerSecond;
    const keys = createKeySupply({
      kme: opts.kme,
      hostSaeId: target.hostSaeId,
      invocationsPerKey: n,
      ...(opts.keyLifetimeMs !== undefined ? { keyLifetimeMs: opts.keyLifetimeMs } : {}),
      ...(opts.spares !== undefined ? { spares: opts.spares } : {}),
      ...(opts.keySizeBits !== undefined ? { keySizeBits: opts.keySizeBits } : {}),
      ...(demand !== undefined ? { expectedInvocationsPerSecond: demand } : {}),
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
    });
    const invoker = createSecureInvoker(
      {
        referenceURI: target.referenceURI,
        contextId: contextId!,
        clientSaeId: opts.clientSaeId,
        invocationsPerKey: n,
        traceId,
      },
      keys,
      opts.metrics,
      opts.http?.fetch,
    );
    return { target, keys, invoker };
  };

  const apply = (note: Notification) => {
    if (note.contextId !== contextId) return;
    emitter.emit('notification', note);
    if (note.notificationType === 'ApplicationContextDeleteNotification') {
      deleted = true;
      changed.emit('change');
      emitter.emit('deleted');
      return;
    }
    const instance = instanceOf(note);
    if (!instance || !live) return;
    const t = instanceTarget(instance, live.target.generation + 1);
    if ('reason' in t) {
      emitter.emit('ignored', { notification: note, reason: t.reason });
      return;
    }
    const next = t.target;
    if (sameInstance(next, live.target)) return;
    const from = live;
    live = connect(next);
    migrations++;
    // attempts sealed for the old address hold their own key copies; spare keys go
    retired.push(from.invoker);
    from.keys.close();
    changed.emit('change');
    emitter.emit('migrated', { from: from.target, to: next, via: note.notificationType });
  };
  const onNotification = (note: Notification) => {
    if (contextId === undefined) early.push(note);
    else apply(note);
  };
  receiver.on('notification', onNotification);

  const release = async () => {
    receiver.off('notification', onNotification);
    live?.keys.close();
    if (ownsReceiver) await receiver.close();
  };

  let created: Awaited<ReturnType<Mx2Client['createContext']>>;
  try {
    created = await opts.mx2.createContext(
      {
        associateDevAppId: opts.associateDevAppId,
        callbackReference: receiver.url,
        appInfo: {
          ...opts.app,
          userAppInstanceInfo: [opts.appLocation ? { appLocation: opts.appLocation } : {}],
        },
      },
      { traceparent: childTraceparent(traceId) },
    );
  } catch (err) {
    await release();
    throw err;
  }
  contextId = created.context.contextId;
  const first = instanceTarget(created.context.appInfo.userAppInstanceInfo[0]!, 0);
  if ('reason' in first) {
    await opts.mx2.deleteContext(contextId).catch(() => undefined);
    await release();
    throw new Error(`context ${contextId} cannot be invoked: ${first.reason}`);
  }
  live = connect(first.target);
  for (const note of early.splice(0)) apply(note);

  /** Resolves true once the address generation passes `generation` (or the context ended). */
  const newerThan = (generation: number) =>
    new Promise<boolean>((resolve) => {
      const check = () => {
        if (deleted || closed || live!.target.generation > generation) {
          clearTimeout(timer);
          changed.off('change', check);
          resolve(!deleted && !closed);
        }
      };
      const timer = setTimeout(() => {
        changed.off('change', check);
        resolve(false);
      }, waitMs);
      changed.on('change', check);
      check();
    });

  async function invoke(args: Record<string, unknown>): Promise<SessionOutcome> {
    const attempts: AttemptRecord[] = [];
    for (;;) {
      if (deleted) throw new ContextDeleted(`context ${contextId} was ended by the MEC system`);
      if (closed) throw new Error(`the session of context ${contextId} is closed`);
      const at = live!;
      try {
        const o = await at.invoker.invokeTimed(args);
        attempts.push({ generation: at.target.generation, referenceURI: at.target.referenceURI });
        return { ...o, contextId: contextId!, instance: at.target, attempts };
      } catch (err) {
        const failure = classifyFailure(err);
        attempts.push({
          generation: at.target.generation,
          referenceURI: at.target.referenceURI,
          failure,
          message: err instanceof Error ? err.message : String(err),
        });
        const step = nextStep({
          kind: failure,
          attemptGeneration: at.target.generation,
          currentGeneration: live!.target.generation,
          attempts: attempts.length,
          maxAttempts,
        });
        if (step === 'fail') {
          if (failure === 'unknown')
            throw new OutcomeUnknown(
              `context ${contextId}: the invocation may have run on ${at.target.appInstanceId}: ${(err as Error).message}`,
              attempts,
              err,
            );
          if (failure === 'not-here' || failure === 'not-delivered')
            throw new NotExecuted(
              `context ${contextId}: no host ran the invocation after ${attempts.length} attempts`,
              attempts,
              err,
            );
          throw err;
        }
        emitter.emit('retrying', { from: at.target, failure });
        if (step === 'wait' && !(await newerThan(at.target.generation))) {
          if (deleted) throw new ContextDeleted(`context ${contextId} was ended by the MEC system`);
          throw new NotExecuted(
            `context ${contextId}: ${at.target.appInstanceId} did not run the invocation (${failure}) and no new address arrived within ${waitMs / 1000} s`,
            attempts,
            err,
          );
        }
      }
    }
  }

  return Object.assign(emitter, {
    contextId,
    traceId,
    location: created.location,
    target: () => live!.target,
    invoke,
    stats() {
      const all = [...retired, live!.invoker].map((i) => i.stats());
      const failures: Record<string, number> = {};
      for (const s of all)
        for (const [k, v] of Object.entries(s.failures)) failures[k] = (failures[k] ?? 0) + (v ?? 0);
      return {
        keysFetched: all.reduce((a, s) => a + s.keysFetched, 0),
        invocations: all.reduce((a, s) => a + s.invocations, 0),
        waits: all.reduce((a, s) => a + s.waits, 0),
        failures,
        migrations,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      changed.emit('change');
      try {
        if (!deleted) await opts.mx2.deleteContext(contextId!);
      } finally {
        await release();
      }
    },
  }) as OffloadSession;
}
