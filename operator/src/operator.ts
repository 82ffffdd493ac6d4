// The MEC Orchestrator assembled: informers over the four kinds (and ConfigMaps), one controller per
// kind (each declaring its own watches next to its reconciler), the telemetry poll and the
// optimisation round — all running only while this replica holds the Lease — plus /healthz,
// /readyz and /metrics. Losing the Lease or the leader's work failing ends the operator (done
// rejects) after that work stopped, so that its supervisor restarts it.
import { hostname } from 'node:os';
import { createLogger, type Logger } from '@mecqkd/common/logger';
import {
  type AppContext,
  appContext as appContextSchema,
  type MecApp,
  type MecHost,
  mecApp as mecAppSchema,
  mecHost as mecHostSchema,
  type QkdLink,
  qkdLink as qkdLinkSchema,
} from '@mecqkd/crds';
import type { Controller } from '@mecqkd/kube/controller';
import { ControllerGroup } from '@mecqkd/kube/controller-group';
import { type HealthServer, startHealthServer } from '@mecqkd/kube/health';
import { Informer } from '@mecqkd/kube/informer';
import { createKubeClient, type KubeClient } from '@mecqkd/kube/kube-client';
import { collectionPath, objectKey } from '@mecqkd/kube/kube-paths';
import { LeaderElector } from '@mecqkd/kube/leader-election';
import type { KubeObject } from '@mecqkd/kube/types';
import type { OperatorConfig } from './config.ts';
import { AppActions, type ConfigMap } from './controllers/app-actions.ts';
import { type AppContextDeps, appContextController, appContextIndexes } from './controllers/appcontext.ts';
import { reportFromCaches } from './controllers/cache-metrics.ts';
import { ContextIndex } from './controllers/context-index.ts';
import type { EventSink } from './controllers/events.ts';
import { HostActions } from './controllers/host-actions.ts';
import { hostEndpoints } from './controllers/host-endpoints.ts';
import { mecAppController } from './controllers/mecapp.ts';
import { mecHostController } from './controllers/mechost.ts';
import { migrate, optimiseRound } from './controllers/optimiser.ts';
import { qkdLinkController } from './controllers/qkdlink.ts';
import { APP_CONTEXTS, CONFIG_MAPS, MEC_APPS, MEC_HOSTS, QKD_LINKS } from './controllers/resources.ts';
import { pollTelemetry } from './controllers/telemetry-loop.ts';
import { ACTION_CODE_SELECTOR } from './controllers/trust.ts';
import { secureWrapper } from './openwhisk/secure-wrapper.ts';
import { seededRng } from './placement/rng.ts';
import type { TelemetryProvider } from './telemetry/provider.ts';
import type { TelemetryStore } from './telemetry/store.ts';

export interface OperatorParts {
  telemetry: TelemetryProvider;
  store: TelemetryStore;
  events: EventSink;
  /** Releases what the parts hold (the Redis connection) at shutdown. */
  close(): Promise<void>;
  log?: Logger;
}

export interface RunningOperator {
  health: HealthServer;
  kube: KubeClient;
  elector?: LeaderElector;
  /** Resolves once this replica leads and its caches have synced (never, for a standby). */
  leading: Promise<void>;
  /** Set while leading: the live machinery, for tests and benchmarks. */
  state?: LeaderState;
  /**
   * Settles once the operator has ended and closed its connections: resolves after stop(); rejects
   * when leadership was lost or the leader's work failed (its work has stopped; exit non-zero).
   */
  done: Promise<void>;
  stop(): Promise<void>;
}

export interface LeaderState {
  index: ContextIndex;
  hostActions: HostActions;
  informers: Informer<KubeObject>[];
  controllers: Controller<KubeObject>[];
  group: ControllerGroup;
}

/** How long an operator whose leadership ended may spend closing its connections before it exits. */
const FATAL_SHUTDOWN_MS = 2_000;

function periodic(
  what: string,
  periodMs: number,
  signal: AbortSignal,
  log: Logger,
  run: () => Promise<void>,
): Promise<void> {
  return (async () => {
    while (!signal.aborted) {
      const started = Date.now();
      try {
        await run();
      } catch (err) {
        log.warn(`${what} failed`, { error: (err as Error).message });
      }
      const wait = Math.max(0, periodMs - (Date.now() - started));
      await new Promise<void>((r) => {
        const wake = () => {
          clearTimeout(t);
          r();
        };
        const t = setTimeout(() => {
          signal.removeEventListener('abort', wake);
          r();
        }, wait);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  })();
}

/** The five caches, each validating with its kind's zod schema; an invalid version is reported. */
function operatorInformers(kube: KubeClient, ns: string | undefined, parts: OperatorParts, log: Logger) {
  const informer = <T extends KubeObject>(
    name: string,
    path: string,
    parse?: (v: unknown) => T,
    labelSelector?: string,
  ) =>
    new Informer<T>({
      name,
      client: kube,
      path,
      ...(labelSelector ? { labelSelector } : {}),
      ...(parse
        ? {
            parse,
            onInvalid: (obj: KubeObject, err: Error) =>
              parts.events.record(obj, {
                type: 'Warning',
                reason: 'InvalidObject',
                action: 'Decode',
                note: `the operator keeps acting on the last valid version: ${err.message}`,
              }),
          }
        : {}),
      logger: log.child({ informer: name }),
    });
  return {
    contexts: informer<AppContext>('appcontexts', collectionPath(APP_CONTEXTS, ns), (v) =>
      appContextSchema.parse(v),
    ),
    apps: informer<MecApp>('mecapps', collectionPath(MEC_APPS, ns), (v) => mecAppSchema.parse(v)),
    hosts: informer<MecHost>('mechosts', collectionPath(MEC_HOSTS, ns), (v) => mecHostSchema.parse(v)),
    links: informer<QkdLink>('qkdlinks', collectionPath(QKD_LINKS, ns), (v) => qkdLinkSchema.parse(v)),
    // only the ConfigMaps labelled as action code: the operator has no business with the others
    configMaps: informer<ConfigMap>(
      'configmaps',
      collectionPath(CONFIG_MAPS, ns),
      undefined,
      ACTION_CODE_SELECTOR,
    ),
  };
}

async function lead(
  cfg: OperatorConfig,
  kube: KubeClient,
  parts: OperatorParts,
  log: Logger,
  signal: AbortSignal,
  onState: (s: LeaderState) => void,
): Promise<void> {
  const caches = operatorInformers(kube, cfg.namespace, parts, log);
  const { contexts, apps, hosts, links, configMaps } = caches;
  appContextIndexes(contexts, apps);
  const index = new ContextIndex();
  contexts
    .on('add', (c) => index.upsert(objectKey(c), c))
    .on('update', (_, c) => index.upsert(objectKey(c), c))
    .on('delete', (c) => index.remove(objectKey(c)));
  const secure = secureWrapper(cfg);
  const appActions = new AppActions(configMaps, secure?.wrap);
  const hostActions = new HostActions(hostEndpoints(kube, hosts, cfg.allowInsecureHosts), secure?.bindHost);
  const now = () => Date.now();
  const views = {
    maxTelemetryAgeMs: cfg.maxTelemetryAge * 1000,
    expectedActivationMs: cfg.expectedActivationMs,
  };
  const weights = {
    load: cfg.weightLoad,
    keyAvailability: cfg.weightKeys,
    pathLength: cfg.weightPath,
    contexts: cfg.weightContexts,
    keyHeadroom: cfg.weightKeyHeadroom,
  };
  const ctxDeps: AppContextDeps = {
    kube,
    contexts,
    apps,
    hosts,
    links,
    index,
    appActions,
    hostActions,
    placement: {
      weights,
      policy: cfg.policy,
      rng: cfg.seed === undefined ? Math.random : seededRng(cfg.seed),
      maxHops: cfg.maxHops,
    },
    views,
    pendingRetryMs: cfg.pendingRetry * 1000,
    moveContext: (m) => migrate({ ...ctxDeps, events: parts.events }, m),
    now,
    log: log.child({ controller: 'appcontext' }),
  };
  const probePeriodMs = cfg.probePeriod * 1000;
  const hostCtl = mecHostController(
    {
      kube,
      hosts,
      contexts,
      links,
      apps,
      appActions,
      index,
      hostActions,
      events: parts.events,
      hostSample: async (key) => {
        const read = await parts.store.getHosts([key]);
        return read.fresh[0] ?? read.stale[0];
      },
      maxTelemetryAgeMs: views.maxTelemetryAgeMs,
      probePeriodMs,
      allowInsecureHosts: cfg.allowInsecureHosts,
      now,
      log: log.child({ controller: 'mechost' }),
    },
    4,
  );
  const controllers = [
    appContextController(ctxDeps, caches, cfg.workers),
    mecAppController(
      { kube, apps, configMaps, appActions, now, log: log.child({ controller: 'mecapp' }) },
      2,
    ),
    hostCtl,
    qkdLinkController(
      {
        kube,
        links,
        apps,
        index,
        probePeriodMs,
        events: parts.events,
        now,
        log: log.child({ controller: 'qkdlink' }),
      },
      2,
    ),
  ] as unknown as Controller<KubeObject>[];

  const informers = Object.values(caches) as Informer<KubeObject>[];
  // Controllers start after every cache synced: a half-filled cache would look like unused actions.
  const group = new ControllerGroup({
    informers,
    controllers,
    cacheSyncTimeoutMs: cfg.cacheSyncTimeout * 1000,
    logger: log,
    loops: (stop) => {
      const loops = [
        periodic('Telemetry poll', cfg.telemetryPeriod * 1000, stop, log, async () => {
          for (const key of await pollTelemetry(
            hosts.list(),
            parts.telemetry,
            parts.store,
            log,
            cfg.allowInsecureHosts,
          ))
            hostCtl.queue.add(key);
        }),
      ];
      if (cfg.optimisePeriod > 0) {
        loops.push(
          periodic('Optimisation round', cfg.optimisePeriod * 1000, stop, log, async () => {
            const moved = await optimiseRound({
              ...ctxDeps,
              events: parts.events,
              optimiser: {
                maxMigrationsPerRound: cfg.maxMigrationsPerRound,
                minScoreGain: cfg.minScoreGain,
                cooldownMs: cfg.migrationCooldown * 1000,
                loadMargin: cfg.loadMargin,
                keyMargin: cfg.keyMargin,
                keyRateMargin: cfg.keyRateMargin,
                // the next round, on telemetry up to maxTelemetryAge old, must still come before a buffer runs dry
                drainHorizonMs: (cfg.drainHorizon ?? cfg.optimisePeriod + cfg.maxTelemetryAge) * 1000,
                weights,
              },
            });
            if (moved.length) log.info('Optimisation round moved contexts', { migrations: moved.length });
          }),
        );
      }
      return loops;
    },
  });
  onState({ index, hostActions, informers, controllers, group });
  const stopReporting = reportFromCaches({ contexts: () => contexts.list(), hosts: () => hosts.list() });
  try {
    await group.run(signal);
  } finally {
    stopReporting();
  }
}

export async function startOperator(cfg: OperatorConfig, parts: OperatorParts): Promise<RunningOperator> {
  const log = parts.log ?? createLogger('operator');
  const kube = await createKubeClient({
    ...(cfg.kubeconfig ? { kubeconfigPath: cfg.kubeconfig } : {}),
    connections: cfg.kubeConnections,
  });
  const health = await startHealthServer(cfg.healthPort, cfg.healthAddress);
  let markLeading!: () => void;
  const leading = new Promise<void>((r) => {
    markLeading = r;
  });
  let ending = false;
  const running = { health, kube, leading } as RunningOperator;
  // A standby is ready; a leader once its caches synced, until they fail or leadership ends.
  health.addReadyzCheck('leader-work', () => !ending && (running.state?.group.ready() ?? true));
  const onState = (s: LeaderState) => {
    running.state = s;
  };
  // The leader's requests are cancelled, and refused, the moment leadership ends: a replica that
  // lost the Lease cannot write what it decided from its stale caches.
  const work = (signal: AbortSignal) => lead(cfg, kube.withSignal(signal), parts, log, signal, onState);
  const leadingWhenSynced = () => {
    const wait = setInterval(() => {
      if (running.state?.group.ready()) {
        clearInterval(wait);
        markLeading();
      }
    }, 50);
    return wait;
  };
  let closed: Promise<void> | undefined;
  const shutdown = () => {
    ending = true;
    closed ??= (async () => {
      await parts.close();
      await health.close();
      await kube.close();
    })();
    return closed;
  };
  /** Shuts down once `ended` settles, passing its outcome on. */
  const endsWith = (ended: Promise<void>, cleanup: () => void) =>
    ended.then(
      async () => {
        cleanup();
        await shutdown();
      },
      async (err: unknown) => {
        cleanup();
        log.error('Operator work ended; exiting', {
          error: err instanceof Error ? err.message : String(err),
        });
        // Flushing Events to an apiserver that cannot be reached must not delay the restart.
        await Promise.race([shutdown(), new Promise((r) => setTimeout(r, FATAL_SHUTDOWN_MS).unref())]);
        throw err;
      },
    );

  if (cfg.leaderElect) {
    const identity = cfg.identity ?? `${hostname()}_${process.pid}`;
    let timer: NodeJS.Timeout | undefined;
    const elector = new LeaderElector(
      kube,
      {
        namespace: cfg.leaseNamespace,
        name: cfg.leaseName,
        identity,
        leaseDurationMs: cfg.leaseDuration * 1000,
        renewDeadlineMs: cfg.renewDeadline * 1000,
        retryPeriodMs: cfg.retryPeriod * 1000,
      },
      {
        onStartedLeading: (signal) => {
          timer = leadingWhenSynced();
          return work(signal);
        },
        onStoppedLeading: () => {
          ending = true;
          clearInterval(timer);
          running.state = undefined;
        },
      },
      log.child({ component: 'leader-election' }),
    );
    health.addHealthzCheck('leader-election', () => elector.healthy());
    running.elector = elector;
    running.done = endsWith(elector.run(), () => clearInterval(timer));
    running.stop = async () => {
      await elector.stop();
      await running.done.catch(() => {});
    };
  } else {
    const abort = new AbortController();
    const timer = leadingWhenSynced();
    running.done = endsWith(work(abort.signal), () => {
      clearInterval(timer);
      abort.abort();
    });
    running.stop = async () => {
      abort.abort();
      await running.done.catch(() => {});
    };
  }
  running.done.catch(() => {}); // observed by main() (exit code) and by tests that expect an end
  return running;
}
