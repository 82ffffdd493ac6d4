// AppContext reconciler: observe the context, its app and the hosts; decide (admission, then keep
// or place); act (deploy the shared action on the chosen host, then record the placement in
// status); a deleted context removes its action from the host when it was the last user there.
// Its controller watches the context's MecApp (and the app's ConfigMap), and hosts and links for
// the contexts that wait for them.
import type { Logger } from '@mecqkd/common/logger';
import { traceIdOf } from '@mecqkd/common/trace';
import type { AppContext, AppContextStatus, MecApp, MecHost, QkdLink } from '@mecqkd/crds';
import { hostInLocation } from '@mecqkd/crds/location';
import { Controller } from '@mecqkd/kube/controller';
import { addFinalizer, hasFinalizer, removeFinalizer } from '@mecqkd/kube/finalizers';
import type { Informer } from '@mecqkd/kube/informer';
import type { KubeClient } from '@mecqkd/kube/kube-client';
import { objectKey, objectPath } from '@mecqkd/kube/kube-paths';
import type { Cache, KubeObject, ReconcileResult, Reconciler } from '@mecqkd/kube/types';
import type { DesiredAction } from '../openwhisk/action.ts';
import { invocationUrl } from '../openwhisk/action.ts';
import { openwhiskNamespaceOf } from '../openwhisk/namespace.ts';
import { placeContext } from '../placement/place.ts';
import type { Rng } from '../placement/rng.ts';
import type { AppDemand, ChoicePolicy, Migration, ScoreWeights } from '../placement/types.ts';
import type { AppActions, ConfigMap } from './app-actions.ts';
import {
  locationStatus,
  type Placement,
  pendingStatus,
  placedStatus,
  rejectedStatus,
  sameStatus,
} from './appcontext-status.ts';
import { actionOfInstance, type ContextIndex, type Usage } from './context-index.ts';
import type { HostActions } from './host-actions.ts';
import { APP_CONTEXT_FINALIZER, APP_CONTEXTS } from './resources.ts';
import { appDemand, hostViews, linkViews, type ViewOptions } from './views.ts';

export interface PlacementSettings {
  weights: ScoreWeights;
  policy: ChoicePolicy;
  rng: Rng;
  maxHops: number;
}

export interface AppContextDeps {
  kube: KubeClient;
  contexts: Cache<AppContext>;
  apps: Cache<MecApp>;
  hosts: Cache<MecHost>;
  links: Cache<QkdLink>;
  index: ContextIndex;
  appActions: AppActions;
  hostActions: HostActions;
  placement: PlacementSettings;
  views: ViewOptions;
  /** How soon a context no host can take is tried again (telemetry changes also retry it). */
  pendingRetryMs: number;
  /** Carries out a migration (deploy on the target, status, Event, origin cleanup): optimiser.ts. */
  moveContext: (m: Migration) => Promise<boolean>;
  now: () => number;
  log: Logger;
}

const CACHE_LAG_BACKSTOP_MS = 10_000;

export type Intent =
  | { kind: 'reject'; reason: string; message: string }
  | { kind: 'pending'; reason: string; message: string }
  | {
      kind: 'place';
      placement: Placement;
      action: DesiredAction;
      replaces?: string;
      /** Why the context stays on a host outside the location it asked for (no host there fits). */
      unmet?: { reason: string; message: string };
    }
  /** The device app asked for another location (PUT appLocation) and a host there can take it. */
  | { kind: 'migrate'; migration: Migration };

/** A migration's reason when the device application changed its appLocation. */
export const LOCATION_CHANGED = 'LocationChanged';

export function appContextReconciler(d: AppContextDeps): Reconciler {
  return async (key) => {
    const ctx = d.contexts.get(key);
    if (!ctx) return undefined;
    if (ctx.metadata.deletionTimestamp) return finalize(d, key, ctx);
    // Our own status write is not in the cache yet: wait for it rather than act on the old version
    // (the index re-queues the key when the watch delivers it; the timer is a backstop).
    if (d.index.deferIfBehind(key, ctx)) return { requeueAfterMs: CACHE_LAG_BACKSTOP_MS };
    const path = objectPath(APP_CONTEXTS, ctx.metadata.namespace, ctx.metadata.name);
    const current = (await addFinalizer(d.kube, path, ctx, APP_CONTEXT_FINALIZER)) ?? ctx;
    const intent = decide(d, key, current);
    // A new placement counts on its host from the decision on, not from its status write: the deploy
    // in between can take seconds, and contexts other workers place meanwhile must see it.
    if (intent.kind !== 'place' || current.status?.host === intent.placement.host)
      return act(d, key, current, intent);
    d.index.plan(key, plannedUsage(current, intent.placement, d.now()));
    try {
      return await act(d, key, current, intent);
    } finally {
      d.index.unplan(key);
    }
  };
}

/** What a context placed by `p` will use, as the index counts it. */
export function plannedUsage(ctx: AppContext, p: Placement, now: number): Usage {
  return {
    host: p.host,
    hostKey: p.hostKey,
    action: p.action,
    app: ctx.spec.appName,
    keyPath: p.keyPath,
    placedAt: now,
  };
}

/** Keys of the contexts of a MecApp (informer index `app`, see appContextIndexes). */
const contextsOfApp = (contexts: Informer<AppContext>, app: KubeObject) =>
  contexts.byIndex(CONTEXTS_BY_APP, objectKey(app)).map(objectKey);
export const CONTEXTS_BY_APP = 'app';
export const APPS_BY_CONFIG_MAP = 'configMap';

/** The informer indexes the mappings below read: contexts by app, apps by ConfigMap. */
export function appContextIndexes(contexts: Informer<AppContext>, apps: Informer<MecApp>): void {
  contexts.addIndex(CONTEXTS_BY_APP, (c) => [`${c.metadata.namespace}/${c.spec.appName}`]);
  apps.addIndex(APPS_BY_CONFIG_MAP, (a) => {
    const ref = a.spec.action.codeFrom?.configMapKeyRef.name;
    return ref ? [`${a.metadata.namespace}/${ref}`] : [];
  });
}

export interface AppContextWatches {
  contexts: Informer<AppContext>;
  apps: Informer<MecApp>;
  hosts: Informer<MecHost>;
  links: Informer<QkdLink>;
  configMaps: Informer<ConfigMap>;
}

export function appContextController(
  d: AppContextDeps,
  w: AppContextWatches,
  workers: number,
): Controller<AppContext> {
  const waitingIn = (obj: KubeObject) =>
    d.index.waitingContexts().filter((k) => k.startsWith(`${obj.metadata.namespace}/`));
  const appsUsing = (cm: KubeObject) => w.apps.byIndex(APPS_BY_CONFIG_MAP, objectKey(cm));
  const ctl = new Controller<AppContext>({
    name: 'appcontext',
    reconciler: appContextReconciler(d),
    informer: w.contexts,
    workers,
    ignoreStatusOnlyUpdates: true,
    logger: d.log,
  })
    .watches(w.apps, (a) => contextsOfApp(w.contexts, a))
    .watches(w.configMaps, (cm) => appsUsing(cm).flatMap((a) => contextsOfApp(w.contexts, a)))
    // a host being deleted moves its contexts at once, not at the next optimisation round
    .watches(w.hosts, (h) => [
      ...waitingIn(h),
      ...(h.metadata.deletionTimestamp ? d.index.contextsOn(objectKey(h)) : []),
    ])
    .watches(w.links, waitingIn);
  d.index.whenCaughtUp((key) => ctl.queue.add(key));
  return ctl;
}

/** Everything placement needs about one namespace, built once per decision. */
export function placementWorld(
  d: Pick<AppContextDeps, 'apps' | 'hosts' | 'links' | 'index' | 'views' | 'now'>,
  namespace: string,
) {
  const hosts = d.hosts.list(namespace);
  const demands = new Map<string, AppDemand | undefined>();
  const demandOf = (app: string) => {
    if (!demands.has(app)) {
      const a = d.apps.get(`${namespace}/${app}`);
      demands.set(app, a ? appDemand(a, hosts, d.views) : undefined);
    }
    return demands.get(app);
  };
  const now = d.now();
  return {
    hosts,
    demandOf,
    hostViews: hostViews(hosts, d.index, demandOf, now, d.views),
    linkViews: linkViews(d.links.list(namespace), d.index, demandOf, now, d.views),
  };
}

export function placementOf(host: MecHost, action: string, keyPath: string[]): Placement {
  return {
    host: host.metadata.name,
    hostKey: objectKey(host),
    action,
    // A Ready host has its namespace resolved (the probe records it before Ready): `_` would 404.
    referenceURI: invocationUrl(
      host.spec.openwhisk.apiHost,
      openwhiskNamespaceOf(host) ?? host.spec.openwhisk.namespace,
      action,
    ),
    hostKmeId: host.spec.kme.kmeId,
    hostSaeId: host.spec.kme.saeId,
    keyPath,
  };
}

/** What the context should become, from the caches alone. Pure but for the placement policy's rng. */
export function decide(
  d: Pick<
    AppContextDeps,
    'apps' | 'hosts' | 'links' | 'index' | 'appActions' | 'placement' | 'views' | 'now'
  >,
  key: string,
  ctx: AppContext,
): Intent {
  const ns = ctx.metadata.namespace!;
  const app = d.apps.get(`${ns}/${ctx.spec.appName}`);
  if (!app)
    return {
      kind: 'reject',
      reason: 'AppNotFound',
      message: `no MecApp ${ctx.spec.appName} in namespace ${ns}`,
    };
  const offered = app.spec.appInfo.appLocation;
  const wanted = ctx.spec.appLocation;
  if (
    wanted &&
    offered &&
    !offered.some((l) => l.countryCode === undefined || l.countryCode === wanted.countryCode)
  ) {
    return {
      kind: 'reject',
      reason: 'LocationNotOffered',
      message: `app ${app.metadata.name} is not offered in ${wanted.countryCode ?? 'the requested area'} (MEC 016: appLocation must match one of the app's)`,
    };
  }
  const desired = d.appActions.of(app);
  if (!desired.ok) return { kind: 'pending', reason: desired.reason, message: desired.message };
  const action = desired.action;

  const status = ctx.status;
  const currentHost = status?.host ? d.hosts.get(`${ns}/${status.host}`) : undefined;
  if (currentHost && !currentHost.metadata.deletionTimestamp && status?.appInstanceId && status.keyPath) {
    const current = actionOfInstance(status.appInstanceId);
    // Keep the host (moving for load or keys is the optimiser's call); redeploy there when the app
    // changed; move when the device app asked for a location the host is not in.
    const keep = {
      kind: 'place' as const,
      placement: placementOf(currentHost, action.name, status.keyPath),
      action,
      ...(current !== action.name ? { replaces: current } : {}),
    };
    if (!wanted || hostInLocation(currentHost.spec.location, offered, wanted)) return keep;
    const elsewhere = choose(d, key, ctx, app.metadata.name, wanted);
    if (elsewhere.kind === 'infeasible')
      return {
        ...keep,
        unmet: {
          reason: elsewhere.reason,
          message: `still served by ${currentHost.metadata.name}, outside the requested location ${describeLocation(wanted)}: ${elsewhere.message}`,
        },
      };
    return {
      kind: 'migrate',
      migration: {
        context: key,
        from: currentHost.metadata.name,
        to: elsewhere.host,
        path: elsewhere.path,
        reason: LOCATION_CHANGED,
      },
    };
  }

  const decision = choose(d, key, ctx, app.metadata.name, wanted);
  if (decision.kind === 'infeasible')
    return { kind: 'pending', reason: decision.reason, message: decision.message };
  const host = d.hosts.get(`${ns}/${decision.host}`)!;
  return { kind: 'place', placement: placementOf(host, action.name, decision.path), action };
}

function describeLocation(l: NonNullable<AppContext['spec']['appLocation']>): string {
  return l.countryCode ?? (l.area ? 'area' : 'civic address');
}

/** The placement policy's host for the context, from the caches as they are now. */
function choose(
  d: Pick<AppContextDeps, 'apps' | 'hosts' | 'links' | 'index' | 'placement' | 'views' | 'now'>,
  key: string,
  ctx: AppContext,
  appName: string,
  wanted: AppContext['spec']['appLocation'],
) {
  const world = placementWorld(d, ctx.metadata.namespace!);
  const demand = world.demandOf(appName)!;
  return placeContext(
    {
      context: key,
      clientKmeId: ctx.spec.client.kmeId,
      demand,
      ...(wanted ? { requestedLocation: wanted } : {}),
    },
    world.hostViews,
    world.linkViews,
    d.placement.weights,
    d.placement.policy,
    d.placement.rng,
    // the views come from CRs the apiserver and the informer's zod parse already validated
    { maxHops: d.placement.maxHops, trustedInputs: true },
  );
}

async function act(
  d: AppContextDeps,
  key: string,
  ctx: AppContext,
  intent: Intent,
): Promise<ReconcileResult | undefined> {
  const now = new Date(d.now());
  switch (intent.kind) {
    case 'reject':
      await writeStatus(d, key, ctx, rejectedStatus(ctx, intent.reason, intent.message, now));
      return undefined; // a new or changed MecApp re-enqueues it
    case 'pending':
      await writeStatus(d, key, ctx, pendingStatus(ctx, intent.reason, intent.message, now));
      return { requeueAfterMs: d.pendingRetryMs };
    case 'place': {
      const { placement, action } = intent;
      await d.hostActions.deployThen(placement.hostKey, action, () =>
        writeStatus(d, key, ctx, locationStatus(ctx, placedStatus(ctx, placement, now), intent.unmet, now)),
      );
      if (intent.replaces) await removeIfUnused(d, placement.hostKey, intent.replaces);
      // a host may yet appear in the requested location
      return intent.unmet ? { requeueAfterMs: d.pendingRetryMs } : undefined;
    }
    case 'migrate':
      await d.moveContext(intent.migration);
      return undefined;
  }
}

/** Writes the status when it changed; returns the object as stored. */
export async function writeStatus(
  d: Pick<AppContextDeps, 'kube' | 'index' | 'log'>,
  key: string,
  ctx: AppContext,
  status: AppContextStatus,
): Promise<AppContext> {
  if (sameStatus(ctx.status, status)) return ctx;
  const path = objectPath(APP_CONTEXTS, ctx.metadata.namespace, ctx.metadata.name);
  // a PUT of the status alone: what the apiserver does per context costs least this way (README, bench)
  const updated = await d.kube.replaceStatus<AppContext>(path, { ...ctx, status });
  d.index.wrote(key, updated, ctx.metadata.resourceVersion);
  if (status.phase !== ctx.status?.phase || status.host !== ctx.status?.host) {
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    d.log.info('Updated AppContext status', {
      key,
      traceId: traceIdOf(ctx),
      phase: status.phase,
      host: status.host,
      reason: ready?.reason,
      detail: ready?.message,
    });
  }
  return updated;
}

export function removeIfUnused(
  d: Pick<AppContextDeps, 'hostActions' | 'index'>,
  hostKey: string,
  action: string,
  except?: string,
): Promise<boolean> {
  return d.hostActions.removeIfUnused(
    hostKey,
    action,
    () => d.index.actionUsers(hostKey, action, except) > 0,
  );
}

export type FinalizeIntent =
  | { kind: 'release' }
  | { kind: 'removeIfUnused'; hostKey: string; action: string }
  | { kind: 'leaveToHost'; hostKey: string };

/**
 * What a deleted context must do before its finalizer goes: remove its action when it was the last
 * user, unless its host is unknown (deleted, or never existed): then the host's own convergence, or
 * its deletion, removes leftovers, and the context need not wait for it.
 */
export function decideFinalize(d: Pick<AppContextDeps, 'hosts'>, ctx: AppContext): FinalizeIntent {
  const host = ctx.status?.host;
  const instance = ctx.status?.appInstanceId;
  if (!host || !instance) return { kind: 'release' };
  const hostKey = `${ctx.metadata.namespace}/${host}`;
  if (!d.hosts.get(hostKey)) return { kind: 'leaveToHost', hostKey };
  return { kind: 'removeIfUnused', hostKey, action: actionOfInstance(instance) };
}

async function finalize(
  d: AppContextDeps,
  key: string,
  ctx: AppContext,
): Promise<ReconcileResult | undefined> {
  if (!hasFinalizer(ctx, APP_CONTEXT_FINALIZER)) return undefined;
  const intent = decideFinalize(d, ctx);
  if (intent.kind === 'removeIfUnused') {
    if (await removeIfUnused(d, intent.hostKey, intent.action, key)) {
      d.log.info('Removed action from host: last context gone', { key, traceId: traceIdOf(ctx), ...intent });
    }
  } else if (intent.kind === 'leaveToHost') {
    d.log.warn('Left action cleanup to host convergence', { key, host: intent.hostKey });
  }
  await removeFinalizer(
    d.kube,
    objectPath(APP_CONTEXTS, ctx.metadata.namespace, ctx.metadata.name),
    ctx,
    APP_CONTEXT_FINALIZER,
  );
  return undefined;
}
