// MecHost reconciler: resolve the host's credentials (refusing those trust.ts does not allow),
// probe its OpenWhisk and KME, fold in the latest telemetry, converge the actions deployed there
// with the contexts placed there, and record it all in status. Runs again every probe period.

import { jsonEqual } from '@mecqkd/common/canonical-json';
import type { Logger } from '@mecqkd/common/logger';
import type { MecHost, MecHostStatus, QkdLink } from '@mecqkd/crds';
import { setCondition } from '@mecqkd/kube/conditions';
import type { KubeClient } from '@mecqkd/kube/kube-client';
import { objectPath } from '@mecqkd/kube/kube-paths';
import type { Cache, ReconcileResult, Reconciler } from '@mecqkd/kube/types';
import type { HostSample } from '../telemetry/types.ts';
import type { ContextIndex } from './context-index.ts';
import type { EventSink } from './events.ts';
import type { HostActions } from './host-actions.ts';
import { type ProbeResult, probeKme, probeOpenWhisk } from './probes.ts';
import { MEC_HOSTS } from './resources.ts';
import { openwhiskAuth, SecretError, tlsMaterial } from './secrets.ts';
import { tlsAgents } from './tls-agents.ts';
import { INSECURE_ENDPOINT, insecureEndpoint, SECRET_NOT_PERMITTED } from './trust.ts';

export interface MecHostDeps {
  kube: KubeClient;
  hosts: Cache<MecHost>;
  links: Cache<QkdLink>;
  index: ContextIndex;
  hostActions: HostActions;
  /** Latest telemetry sample of a host ("namespace/name"), if any. */
  hostSample: (key: string) => Promise<HostSample | undefined>;
  maxTelemetryAgeMs: number;
  probePeriodMs: number;
  /** --allow-insecure-hosts: accept plain-HTTP or unverified OpenWhisk endpoints. */
  allowInsecureHosts: boolean;
  events: EventSink;
  now: () => number;
  log: Logger;
}

/** A probe the operator would not run: credentials or an endpoint it is not allowed to use. */
type Probe = ProbeResult & { refused?: boolean };

async function probe(d: MecHostDeps, key: string, host: MecHost): Promise<Probe> {
  const ns = host.metadata.namespace!;
  const { openwhisk, kme } = host.spec;
  const insecure = insecureEndpoint(openwhisk);
  if (insecure && !d.allowInsecureHosts) {
    const message = `${insecure}; refused unless the operator runs with --allow-insecure-hosts`;
    return { ok: false, reason: INSECURE_ENDPOINT, message, refused: true };
  }
  try {
    const auth = await openwhiskAuth(d.kube, ns, openwhisk.credentialsSecret.name);
    d.hostActions.setEndpoint(host.metadata.name, {
      apiHost: openwhisk.apiHost,
      namespace: openwhisk.namespace,
      auth,
      insecure: openwhisk.insecure,
    });
    const tls = await tlsMaterial(d.kube, ns, kme.credentialsSecret.name);
    const whisk = await probeOpenWhisk(d.hostActions.client(host.metadata.name)!, openwhisk.apiHost);
    if (!whisk.ok) return whisk;
    const keys = await probeKme(kme.url, kme.saeId, tlsAgents.agentFor(`MecHost ${key}`, tls));
    if (!keys.ok) return keys;
    return { ok: true, reason: 'HostReady', message: `OpenWhisk and KME ${kme.kmeId} reachable` };
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

export function mecHostReconciler(d: MecHostDeps): Reconciler {
  return async (key): Promise<ReconcileResult | undefined> => {
    const host = d.hosts.get(key);
    if (!host) {
      d.hostActions.forgetHost(key.slice(key.indexOf('/') + 1));
      tlsAgents.drop(`MecHost ${key}`);
      return undefined;
    }
    const name = host.metadata.name;
    const ready = await probe(d, key, host);
    if (ready.refused) {
      // nothing may go on using what was resolved before the refusal
      d.hostActions.forgetHost(name);
      tlsAgents.drop(`MecHost ${key}`);
      d.events.record(host, { type: 'Warning', reason: ready.reason, action: 'Probe', note: ready.message });
    }
    if (ready.ok) {
      const removed = await d.hostActions.converge(name, (action) => d.index.actionUsers(name, action) > 0);
      if (removed.length) d.log.info('Removed unused actions from host', { key, actions: removed });
    }
    const sample = await d.hostSample(key);
    const now = d.now();
    const fresh = sample !== undefined && now - sample.time <= d.maxTelemetryAgeMs;
    const gen = host.metadata.generation ?? 0;
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
        message: sample
          ? `load ${sample.load.toFixed(3)} from ${sample.source}, ${Math.round((now - sample.time) / 1000)} s old`
          : 'no load sample yet',
        observedGeneration: gen,
      },
      new Date(now),
    );
    const keyAvailability = hostKeyAvailability(host, d.links.list(host.metadata.namespace));
    const status: MecHostStatus = {
      observedGeneration: gen,
      conditions,
      ...(sample
        ? { load: Number(sample.load.toFixed(4)), telemetryTime: new Date(sample.time).toISOString() }
        : {}),
      ...(keyAvailability !== undefined ? { keyAvailability: Number(keyAvailability.toFixed(4)) } : {}),
      contextCount: d.index.contextCount(name),
      deployedActions: [...d.index.actionsOn(name)].sort(),
    };
    if (!jsonEqual(host.status ?? {}, status)) {
      await d.kube.patchStatus(objectPath(MEC_HOSTS, host.metadata.namespace, name), 'merge', { status });
    }
    return { requeueAfterMs: d.probePeriodMs };
  };
}
