// MecHost reconciler: probe the host's OpenWhisk and KME (refusing credentials and endpoints that
// trust.ts does not allow), converge the actions deployed there with
// the contexts placed there (both ways), fold in the latest telemetry, and record it all in status;
// runs again every probe period. A host being deleted keeps its finalizer until the contexts on it
// have moved (they are re-queued the moment deletion starts) and its actions are gone.

import { jsonEqual } from '@mecqkd/common/canonical-json';
import type { Logger } from '@mecqkd/common/logger';
import { percent } from '@mecqkd/common/units';
import type { AppContext, MecApp, MecHost, MecHostStatus, QkdLink } from '@mecqkd/crds';
import { setCondition } from '@mecqkd/kube/conditions';
import { Controller } from '@mecqkd/kube/controller';
import { addFinalizer, hasFinalizer, removeFinalizer } from '@mecqkd/kube/finalizers';
import type { Informer } from '@mecqkd/kube/informer';
import type { KubeClient } from '@mecqkd/kube/kube-client';
import { objectPath } from '@mecqkd/kube/kube-paths';
import type { ReconcileResult, Reconciler } from '@mecqkd/kube/types';
import type { DesiredAction } from '../openwhisk/action.ts';
import { NAMESPACE_ALIAS } from '../openwhisk/namespace.ts';
import type { HostSample } from '../telemetry/types.ts';
import type { AppActions } from './app-actions.ts';
import type { ContextIndex } from './context-index.ts';
import type { EventSink } from './events.ts';
import type { Convergence, HostActions } from './host-actions.ts';
import { type ProbeResult, probeKme, probeOpenWhisk } from './probes.ts';
import { MEC_HOST_FINALIZER, MEC_HOSTS } from './resources.ts';
import { SecretError, tlsMaterial } from './secrets.ts';
import { statusPatch } from './status-patch.ts';
import { tlsAgents } from './tls-agents.ts';
import { INSECURE_ENDPOINT, insecureEndpoint, SECRET_NOT_PERMITTED } from './trust.ts';

export interface MecHostDeps {
  kube: KubeClient;
  hosts: Informer<MecHost>;
  contexts: Informer<AppContext>;
  links: Informer<QkdLink>;
  apps: Informer<MecApp>;
  appActions: AppActions;
  index: ContextIndex;
  hostActions: HostActions;
  events: EventSink;
  /** Latest telemetry sample of a host ("namespace/name"), if any. */
  hostSample: (key: string) => Promise<HostSample | undefined>;
  maxTelemetryAgeMs: number;
  probePeriodMs: number;
  /** --allow-insecure-hosts: accept plain-HTTP or unverified OpenWhisk endpoints. */
  allowInsecureHosts: boolean;
  now: () => number;
  log: Logger;
}

/** How often a host being deleted looks again whether its contexts have left (events also wake it). */
const DRAIN_RECHECK_MS = 2_000;

/** A probe the operator would not run: credentials or an endpoint it is not allowed to use. */
type Probe = ProbeResult & { refused?: boolean; openwhiskNamespace?: string };

async function probe(d: MecHostDeps, key: string, host: MecHost): Promise<Probe> {
  const { openwhisk, kme } = host.spec;
  const insecure = insecureEndpoint(openwhisk);
  if (insecure && !d.allowInsecureHosts) {
    const message = `${insecure}; refused unless the operator runs with --allow-insecure-hosts`;
    return { ok: false, reason: INSECURE_ENDPOINT, message, refused: true };
  }
  try {
    const whisk = await d.hostActions.refresh(key);
    if (!whisk) return { ok: false, reason: 'HostNotFound', message: `MecHost ${key} is gone` };
    const tls = await tlsMaterial(d.kube, host.metadata.namespace!, kme.credentialsSecret.name);
    const ow = await probeOpenWhisk(whisk, openwhisk.apiHost, openwhisk.namespace);
    if (!ow.ok) return ow;
    const keys = await probeKme(kme.url, kme.saeId, tlsAgents.agentFor(`MecHost ${key}`, tls));
    const seen = ow.namespace !== undefined ? { openwhiskNamespace: ow.namespace } : {};
    if (!keys.ok) return { ...keys, ...seen };
    return { ok: true, reason: 'HostReady', message: `OpenWhisk and KME ${kme.kmeId} reachable`, ...seen };
  } catch (err) {
    if (err instanceof SecretError) {
      const refused = err.reason === SECRET_NOT_PERMITTED;
      return { ok: false, reason: err.reason, message: err.message, refused };
    }
    d.log.warn('Probe of MecHost failed', { key, error: (err as Error).message });
    return { ok: false, reason: 'ProbeFailed', message: (err as Error).message };
  }
}

/** Best key availability of an ACTIVE link that ends at this host's KME. */
export function hostKeyAvailability(host: MecHost, links: QkdLink[]): number | undefined {
  const kme = host.spec.kme.kmeId;
  const values = links
    .filter(
      (l) => (l.spec.source.kmeId === kme || l.spec.target.kmeId === kme) && l.status?.state === 'ACTIVE',
    )
    .map((l) => l.status?.keyAvailability ?? 0);
  return values.length ? Math.max(...values) : undefined;
}

/** The actions the host's placed contexts use, each with its desired form while its app builds it. */
function neededActions(d: MecHostDeps, key: string, host: MecHost): Map<string, DesiredAction | undefined> {
  const needed = new Map<string, DesiredAction | undefined>();
  for (const [action, appName] of d.index.actionsOn(key)) {
    const app = d.apps.get(`${host.metadata.namespace}/${appName}`);
    const desired = app ? d.appActions.of(app) : undefined;
    // an app that changed deploys under a new name: its contexts move to that one themselves
    needed.set(action, desired?.ok && desired.action.name === action ? desired.action : undefined);
  }
  return needed;
}

export interface HostObservation {
  ready: ProbeResult;
  sample: HostSample | undefined;
  keyAvailability: number | undefined;
  contextCount: number;
  /** Managed actions listed on the host's OpenWhisk; undefined when it could not be listed. */
  deployedActions: string[] | undefined;
  /** What `_` resolved to, when the probe got that far. */
  openwhiskNamespace?: string;
}

/** The status a host's observation spells out. Pure. */
export function mecHostStatus(
  host: MecHost,
  o: HostObservation,
  now: number,
  maxTelemetryAgeMs: number,
): MecHostStatus {
  const { sample, ready } = o;
  const fresh = sample !== undefined && now - sample.time <= maxTelemetryAgeMs;
  const gen = host.metadata.generation ?? 0;
  // An unreachable OpenWhisk does not change its namespace: the last one seen for this spec stays.
  const namespace =
    host.spec.openwhisk.namespace !== NAMESPACE_ALIAS
      ? undefined
      : (o.openwhiskNamespace ??
        (host.status?.observedGeneration === gen ? host.status?.openwhiskNamespace : undefined));
  let conditions = setCondition(
    host.status?.conditions ?? [],
    {
      type: 'Ready',
      status: ready.ok ? 'True' : 'False',
      reason: ready.reason,
      message: ready.message,
      observedGeneration: gen,
    },
    new Date(now),
  );
  conditions = setCondition(
    conditions,
    {
      type: 'TelemetryFresh',
      status: fresh ? 'True' : 'False',
      reason: fresh ? 'Fresh' : sample ? 'Stale' : 'NoTelemetry',
      // no age here: it would change the status, and cost a write, on every pass
      message: sample
        ? `load ${sample.load.toFixed(3)} from ${sample.source} at ${new Date(sample.time).toISOString()}`
        : 'no load sample yet',
      observedGeneration: gen,
    },
    new Date(now),
  );
  return {
    observedGeneration: gen,
    conditions,
    ...(sample
      ? {
          load: Number(sample.load.toFixed(4)),
          loadPercent: percent(sample.load),
          telemetryTime: new Date(sample.time).toISOString(),
        }
      : {}),
    ...(o.keyAvailability !== undefined
      ? {
          keyAvailability: Number(o.keyAvailability.toFixed(4)),
          keyAvailabilityPercent: percent(o.keyAvailability),
        }
      : {}),
    contextCount: o.contextCount,
    ...(o.deployedActions ? { deployedActions: o.deployedActions } : {}),
    ...(namespace ? { openwhiskNamespace: namespace } : {}),
  };
}

async function convergeActions(d: MecHostDeps, key: string, host: MecHost): Promise<Convergence> {
  const c = await d.hostActions.converge(key, neededActions(d, key, host), (action) => inUse(d, key, action));
  if (c.deployed.length) d.log.info('Redeployed missing actions on host', { key, actions: c.deployed });
  if (c.removed.length) d.log.info('Removed unused actions from host', { key, actions: c.removed });
  return c;
}

/**
 * In use by a placed context, or possibly by one the cache cannot show: a context that fails
 * validation (e.g. written by a newer operator) may be placed here, so nothing is removed meanwhile.
 */
function inUse(d: MecHostDeps, key: string, action: string): boolean {
  const ns = key.slice(0, key.indexOf('/'));
  return d.index.actionUsers(key, action) > 0 || d.contexts.rejectedKeys(ns).length > 0;
}

/** Deletion: wait until no context is placed here, remove the host's actions, release the host. */
async function finalizeHost(
  d: MecHostDeps,
  key: string,
  host: MecHost,
): Promise<ReconcileResult | undefined> {
  if (!hasFinalizer(host, MEC_HOST_FINALIZER)) return undefined;
  const staying = d.index.contextCount(key);
  if (staying > 0) {
    d.log.info('MecHost being deleted waits for its contexts to move', { key, contexts: staying });
    return { requeueAfterMs: DRAIN_RECHECK_MS };
  }
  try {
    const c = await d.hostActions.converge(key, new Map(), (action) => inUse(d, key, action));
    if (c.removed.length) d.log.info('Removed actions of a deleted host', { key, actions: c.removed });
  } catch (err) {
    // The host is going away: an unreachable OpenWhisk must not keep the MecHost forever.
    d.events.record(host, {
      type: 'Warning',
      reason: 'CleanupFailed',
      action: 'RemoveActions',
      note: `actions left on the host's OpenWhisk: ${(err as Error).message}`,
    });
  }
  await removeFinalizer(
    d.kube,
    objectPath(MEC_HOSTS, host.metadata.namespace, host.metadata.name),
    host,
    MEC_HOST_FINALIZER,
  );
  d.hostActions.forgetHost(key);
  tlsAgents.drop(`MecHost ${key}`);
  return undefined;
}

export function mecHostReconciler(d: MecHostDeps): Reconciler {
  return async (key): Promise<ReconcileResult | undefined> => {
    const cached = d.hosts.get(key);
    if (!cached) {
      d.hostActions.forgetHost(key);
      tlsAgents.drop(`MecHost ${key}`);
      return undefined;
    }
    if (cached.metadata.deletionTimestamp) return finalizeHost(d, key, cached);
    const path = objectPath(MEC_HOSTS, cached.metadata.namespace, cached.metadata.name);
    const host = (await addFinalizer(d.kube, path, cached, MEC_HOST_FINALIZER)) ?? cached;
    const ready = await probe(d, key, host);
    if (ready.refused) {
      // nothing may go on using what was resolved before the refusal
      d.hostActions.forgetHost(key);
      tlsAgents.drop(`MecHost ${key}`);
      d.events.record(host, { type: 'Warning', reason: ready.reason, action: 'Probe', note: ready.message });
    }
    const converged = ready.ok ? await convergeActions(d, key, host) : undefined;
    const status = mecHostStatus(
      host,
      {
        ready,
        sample: await d.hostSample(key),
        keyAvailability: hostKeyAvailability(host, d.links.list(host.metadata.namespace)),
        contextCount: d.index.contextCount(key),
        deployedActions: converged?.present,
        ...(ready.openwhiskNamespace ? { openwhiskNamespace: ready.openwhiskNamespace } : {}),
      },
      d.now(),
      d.maxTelemetryAgeMs,
    );
    if (!jsonEqual(host.status ?? {}, status)) {
      await d.kube.patchStatus(path, 'merge', { status: statusPatch(host.status, status) });
    }
    return { requeueAfterMs: d.probePeriodMs };
  };
}

/** Wakes a host being deleted whenever one of its contexts changes (e.g. moves away). */
function deletingHostOf(d: MecHostDeps, ctx: AppContext): string[] {
  const name = ctx.status?.host;
  if (!name) return [];
  const key = `${ctx.metadata.namespace}/${name}`;
  return d.hosts.get(key)?.metadata.deletionTimestamp ? [key] : [];
}

export function mecHostController(d: MecHostDeps, workers: number): Controller<MecHost> {
  return new Controller<MecHost>({
    name: 'mechost',
    logger: d.log,
    informer: d.hosts,
    workers,
    ignoreStatusOnlyUpdates: true,
    reconciler: mecHostReconciler(d),
  }).watches(d.contexts, (ctx) => deletingHostOf(d, ctx));
}
