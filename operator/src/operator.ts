// The MEC Orchestrator assembled: informers over the four kinds (and ConfigMaps), one controller per
// kind, the telemetry poll and the optimisation round — all running only while this replica holds
// the Lease — plus /healthz, /readyz and /metrics.
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
import { Controller } from '@mecqkd/kube/controller';
import { type HealthServer, startHealthServer } from '@mecqkd/kube/health';
import { Informer } from '@mecqkd/kube/informer';
import { createKubeClient, type KubeClient } from '@mecqkd/kube/kube-client';
import { collectionPath, objectKey, splitKey } from '@mecqkd/kube/kube-paths';
import { LeaderElector } from '@mecqkd/kube/leader-election';
import type { KubeObject } from '@mecqkd/kube/types';
import type { OperatorConfig } from './config.ts';
import { AppActions, type ConfigMap } from './controllers/app-actions.ts';
import { type AppContextDeps, appContextReconciler } from './controllers/appcontext.ts';
import { ContextIndex } from './controllers/context-index.ts';
import type { EventSink } from './controllers/events.ts';
import { HostActions } from './controllers/host-actions.ts';
import { mecAppReconciler } from './controllers/mecapp.ts';
import { mecHostReconciler } from './controllers/mechost.ts';
import { optimiseRound } from './controllers/optimiser.ts';
import { qkdLinkReconciler } from './controllers/qkdlink.ts';
import { APP_CONTEXTS, CONFIG_MAPS, MEC_APPS, MEC_HOSTS, QKD_LINKS } from './controllers/resources.ts';
import { pollTelemetry } from './controllers/telemetry-loop.ts';
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
  stop(): Promise<void>;
}

export interface LeaderState {
  index: ContextIndex;
  hostActions: HostActions;
  informers: Informer<KubeObject>[];
  controllers: Controller<KubeObject>[];
}

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

async function lead(
  cfg: OperatorConfig,
  kube: KubeClient,
  parts: OperatorParts,
  log: Logger,
  signal: AbortSignal,
  onState: (s: LeaderState) => void,
): Promise<void> {
  const ns = cfg.namespace;
  const informer = <T extends KubeObject>(name: string, path: string, parse?: (v: unknown) => T) =>
    new Informer<T>({
      name,
      client: kube,
      path,
      ...(parse ? { parse } : {}),
      logger: log.child({ informer: name }),
    });
  const contexts = informer<AppContext>('appcontexts', collectionPath(APP_CONTEXTS, ns), (v) =>
    appContextSchema.parse(v),
  );
  const apps = informer<MecApp>('mecapps', collectionPath(MEC_APPS, ns), (v) => mecAppSchema.parse(v));
  const hosts = informer<MecHost>('mechosts', collectionPath(MEC_HOSTS, ns), (v) => mecHostSchema.parse(v));
  const links = informer<QkdLink>('qkdlinks', collectionPath(QKD_LINKS, ns), (v) => qkdLinkSchema.parse(v));
  const configMaps = informer<ConfigMap>('configmaps', collectionPath(CONFIG_MAPS, ns));

  const index = new ContextIndex();
  contexts
    .on('add', (c) => index.upsert(objectKey(c), c))
    .on('update', (_, c) => index.upsert(objectKey(c), c))
    .on('delete', (c) => index.remove(objectKey(c)));
  const appActions = new AppActions(configMaps, secureWrapper(cfg));
  const hostActions = new HostActions();
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
    now,
    log: log.child({ controller: 'appcontext' }),
  };

  const contextsOfApp = (app: KubeObject) =>
    contexts
      .list(app.metadata.namespace)
      .filter((c) => c.spec.appName === app.metadata.name)
      .map(objectKey);
  const waitingIn = (obj: KubeObject) =>
    index.waitingContexts().filter((k) => splitKey(k).namespace === obj.metadata.namespace);
  const appsUsing = (cm: KubeObject) =>
    apps
      .list(cm.metadata.namespace)
      .filter((a) => a.spec.action.codeFrom?.configMapKeyRef.name === cm.metadata.name);

  const appContextCtl = new Controller<AppContext>({
    name: 'appcontext',
    reconciler: appContextReconciler(ctxDeps),
    informer: contexts,
    workers: cfg.workers,
    ignoreStatusOnlyUpdates: true,
    logger: ctxDeps.log,
  })
    .watches(apps, contextsOfApp)
    .watches(configMaps, (cm) => appsUsing(cm).flatMap(contextsOfApp))
    .watches(hosts, (h) => [
      ...waitingIn(h),
      ...(h.metadata.deletionTimestamp ? index.contextsOn(h.metadata.name) : []),
    ])
    .watches(links, waitingIn);
  const hostCtl = new Controller<MecHost>({
    name: 'mechost',
    logger: log.child({ controller: 'mechost' }),
    informer: hosts,
    workers: 4,
    ignoreStatusOnlyUpdates: true,
    reconciler: mecHostReconciler({
      kube,
      hosts,
      links,
      index,
      hostActions,
      hostSample: async (key) => {
        const read = await parts.store.getHosts([key]);
        return read.fresh[0] ?? read.stale[0];
      },
      maxTelemetryAgeMs: views.maxTelemetryAgeMs,
      probePeriodMs: cfg.probePeriod * 1000,
      now,
      log: log.child({ controller: 'mechost' }),
    }),
  });
  const appCtl = new Controller<MecApp>({
    name: 'mecapp',
    logger: log.child({ controller: 'mecapp' }),
    informer: apps,
    workers: 2,
    ignoreStatusOnlyUpdates: true,
    reconciler: mecAppReconciler({ kube, apps, appActions, now }),
  }).watches(configMaps, (cm) => appsUsing(cm).map(objectKey));
  const linkCtl = new Controller<QkdLink>({
    name: 'qkdlink',
    logger: log.child({ controller: 'qkdlink' }),
    informer: links,
    workers: 2,
    ignoreStatusOnlyUpdates: true,
    reconciler: qkdLinkReconciler({
      kube,
      links,
      apps,
      index,
      probePeriodMs: cfg.probePeriod * 1000,
      now,
      log: log.child({ controller: 'qkdlink' }),
    }),
  });

  index.whenCaughtUp((key) => appContextCtl.queue.add(key));
  const informers = [contexts, apps, hosts, links, configMaps] as Informer<KubeObject>[];
  const controllers = [appContextCtl, appCtl, hostCtl, linkCtl] as unknown as Controller<KubeObject>[];
  onState({ index, hostActions, informers, controllers });
  for (const i of informers) i.start();
  // Controllers start after every cache synced: a half-filled cache would look like unused actions.
  await Promise.all(informers.map((i) => i.waitForSync()));
  await Promise.all(controllers.map((c) => c.start()));
  log.info('Caches synced; controllers started', {
    contexts: contexts.list().length,
    hosts: hosts.list().length,
  });

  const loops = [
    periodic('Telemetry poll', cfg.telemetryPeriod * 1000, signal, log, async () => {
      for (const key of await pollTelemetry(hosts.list(), parts.telemetry, parts.store, log))
        hostCtl.queue.add(key);
    }),
  ];
  if (cfg.optimisePeriod > 0) {
    loops.push(
      periodic('Optimisation round', cfg.optimisePeriod * 1000, signal, log, async () => {
        const moved = await optimiseRound({
          ...ctxDeps,
          events: parts.events,
          optimiser: {
            maxMigrationsPerRound: cfg.maxMigrationsPerRound,
            minScoreGain: cfg.minScoreGain,
            cooldownMs: cfg.migrationCooldown * 1000,
            loadMargin: cfg.loadMargin,
            keyMargin: cfg.keyMargin,
            weights,
          },
        });
        if (moved.length) log.info('Optimisation round moved contexts', { migrations: moved.length });
      }),
    );
  }
  await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
  await Promise.all(loops);
  await Promise.all(controllers.map((c) => c.stop()));
  await Promise.all(informers.map((i) => i.stop()));
}

export async function startOperator(cfg: OperatorConfig, parts: OperatorParts): Promise<RunningOperator> {
  const log = parts.log ?? createLogger('operator');
  const kube = await createKubeClient({
    ...(cfg.kubeconfig ? { kubeconfigPath: cfg.kubeconfig } : {}),
    connections: cfg.kubeConnections,
  });
  const health = await startHealthServer(cfg.healthPort);
  let markLeading!: () => void;
  const leading = new Promise<void>((r) => {
    markLeading = r;
  });
  const running: RunningOperator = { health, kube, leading, stop: async () => {} };
  const onState = (s: LeaderState) => {
    running.state = s;
    health.addReadyzCheck('informers-synced', () => s.informers.every((i) => i.hasSynced()));
  };
  const work = (signal: AbortSignal) =>
    lead(cfg, kube, parts, log, signal, onState).catch((err: unknown) => {
      log.error('Operator work failed', { error: (err as Error).message });
      throw err;
    });
  const leadingWhenSynced = () => {
    const wait = setInterval(() => {
      if (running.state?.informers.every((i) => i.hasSynced())) {
        clearInterval(wait);
        markLeading();
      }
    }, 50);
    return wait;
  };

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
          clearInterval(timer);
          running.state = undefined;
        },
      },
      log.child({ component: 'leader-election' }),
    );
    health.addHealthzCheck('leader-election', () => elector.healthy());
    running.elector = elector;
    const campaign = elector.run();
    running.stop = async () => {
      await elector.stop();
      await campaign;
      await shutdown();
    };
  } else {
    const abort = new AbortController();
    const timer = leadingWhenSynced();
    const done = work(abort.signal);
    running.stop = async () => {
      clearInterval(timer);
      abort.abort();
      await done.catch(() => {});
      await shutdown();
    };
  }
  async function shutdown() {
    await parts.close();
    await health.close();
    await kube.close();
  }
  return running;
}
