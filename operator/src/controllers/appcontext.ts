// AppContext reconciler: observe the context, its app and the hosts; decide (admission, then keep
// or place); act (deploy the shared action on the chosen host, then record the placement in
// status); a deleted context removes its action from the host when it was the last user there.
import type { Logger } from '@mecqkd/common/logger';
import type { AppContext, AppContextStatus, MecApp, MecHost, QkdLink } from '@mecqkd/crds';
import { addFinalizer, hasFinalizer, removeFinalizer } from '@mecqkd/kube/finalizers';
import type { KubeClient } from '@mecqkd/kube/kube-client';
import { objectPath } from '@mecqkd/kube/kube-paths';
import type { Cache, ReconcileResult, Reconciler } from '@mecqkd/kube/types';
import { invocationUrl } from '../openwhisk/action.ts';
import { placeContext } from '../placement/place.ts';
import type { Rng } from '../placement/rng.ts';
import type { AppDemand, ChoicePolicy, ScoreWeights } from '../placement/types.ts';
import type { AppActions } from './app-actions.ts';
import {
  type Placement,
  pendingStatus,
  placedStatus,
  rejectedStatus,
  sameStatus,
} from './appcontext-status.ts';
import { actionOfInstance, type ContextIndex } from './context-index.ts';
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
  now: () => number;
  log: Logger;
}

const CACHE_LAG_BACKSTOP_MS = 10_000;

type Intent =
  | { kind: 'reject'; reason: string; message: string }
  | { kind: 'pending'; reason: string; message: string }
  | {
      kind: 'place';
      placement: Placement;
      action: import('../openwhisk/action.ts').DesiredAction;
      replaces?: string;
    };

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
    return act(d, key, current, intent);
  };
}

/** Everything placement needs about one namespace, built once per decision. */
export function placementWorld(d: AppContextDeps, namespace: string) {
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
    action,
    referenceURI: invocationUrl(host.spec.openwhisk.apiHost, host.spec.openwhisk.namespace, action),
    hostKmeId: host.spec.kme.kmeId,
    hostSaeId: host.spec.kme.saeId,
    keyPath,
  };
}

function decide(d: AppContextDeps, key: string, ctx: AppContext): Intent {
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
    // Keep the host (moving is the optimiser's call); redeploy there when the app changed.
    return {
      kind: 'place',
      placement: placementOf(currentHost, action.name, status.keyPath),
      action,
      ...(current !== action.name ? { replaces: current } : {}),
    };
  }

  const world = placementWorld(d, ns);
  const demand = world.demandOf(app.metadata.name)!;
  const decision = placeContext(
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
  if (decision.kind === 'infeasible')
    return { kind: 'pending', reason: decision.reason, message: decision.message };
  const host = world.hosts.find((h) => h.metadata.name === decision.host)!;
  return { kind: 'place', placement: placementOf(host, action.name, decision.path), action };
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
      await d.hostActions.deployThen(placement.host, action, () =>
        writeStatus(d, key, ctx, placedStatus(ctx, placement, now)),
      );
      if (intent.replaces) await removeIfUnused(d, placement.host, intent.replaces);
      return undefined;
    }
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
  const updated = await d.kube.patchStatus<AppContext>(path, 'merge', {
    metadata: { resourceVersion: ctx.metadata.resourceVersion },
    status: { ...nullOut(ctx.status, status), ...status },
  });
  d.index.wrote(key, updated);
  if (status.phase !== ctx.status?.phase || status.host !== ctx.status?.host) {
    d.log.info('Updated AppContext status', { key, phase: status.phase, host: status.host });
  }
  return updated;
}

/** Merge patch deletes a field only when sent as null: null out what the new status drops. */
function nullOut(before: AppContextStatus | undefined, after: AppContextStatus): Record<string, null> {
  const out: Record<string, null> = {};
  for (const k of Object.keys(before ?? {})) if (!(k in after)) out[k] = null;
  return out;
}

export function removeIfUnused(
  d: Pick<AppContextDeps, 'hostActions' | 'index'>,
  host: string,
  action: string,
  except?: string,
): Promise<boolean> {
  return d.hostActions.removeIfUnused(host, action, () => d.index.actionUsers(host, action, except) > 0);
}

async function finalize(
  d: AppContextDeps,
  key: string,
  ctx: AppContext,
): Promise<ReconcileResult | undefined> {
  if (!hasFinalizer(ctx, APP_CONTEXT_FINALIZER)) return undefined;
  const host = ctx.status?.host;
  const instance = ctx.status?.appInstanceId;
  if (host && instance && d.hostActions.endpoint(host)) {
    const action = actionOfInstance(instance);
    if (await removeIfUnused(d, host, action, key)) {
      d.log.info('Removed action from host: last context gone', { key, host, action });
    }
  } else if (host && instance) {
    // The host's endpoint is unknown (host deleted or not yet resolved): the host's own convergence
    // removes leftovers; the context need not wait for it.
    d.log.warn('Left action cleanup to host convergence', { key, host });
  }
  await removeFinalizer(
    d.kube,
    objectPath(APP_CONTEXTS, ctx.metadata.namespace, ctx.metadata.name),
    ctx,
    APP_CONTEXT_FINALIZER,
  );
  return undefined;
}
