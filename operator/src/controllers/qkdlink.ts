// QkdLink reconciler: probe the KMEs at both ends over mutual TLS for the link's state (ETSI GS
// QKD 015 terms: state, secret key rate, stored and capacity keys) and record it, together with the
// key rate the placed contexts routed over the link are expected to draw.

import type { Agent } from 'node:https';
import { jsonEqual } from '@mecqkd/common/canonical-json';
import type { Logger } from '@mecqkd/common/logger';
import { bitRate, percent } from '@mecqkd/common/units';
import type { MecApp, QkdLink, QkdLinkStatus } from '@mecqkd/crds';
import { setCondition } from '@mecqkd/kube/conditions';
import { Controller } from '@mecqkd/kube/controller';
import type { Informer } from '@mecqkd/kube/informer';
import type { KubeClient } from '@mecqkd/kube/kube-client';
import { objectPath } from '@mecqkd/kube/kube-paths';
import type { Cache, Reconciler } from '@mecqkd/kube/types';
import { z } from 'zod';
import type { ContextIndex } from './context-index.ts';
import type { EventSink } from './events.ts';
import { mtlsGet } from './probes.ts';
import { QKD_LINKS } from './resources.ts';
import { SecretError, tlsMaterial } from './secrets.ts';
import { tlsAgents } from './tls-agents.ts';
import { SECRET_NOT_PERMITTED } from './trust.ts';

/** One link end as kme-sim reports it at GET /mecqkd/v1/links (QKD 015 vocabulary). */
const linkEnd = z.object({
  localKmeId: z.string(),
  remoteKmeId: z.string(),
  status: z.enum(['ACTIVE', 'PASSIVE', 'PENDING', 'OFF']),
  skr: z.number().min(0),
  storedKeyCount: z.int().min(0),
  maxKeyCount: z.int().min(0),
  keyAvailability: z.number().min(0).max(1),
});
const linksResponse = z.object({ kmeId: z.string(), links: z.array(linkEnd) });
type LinkEnd = z.infer<typeof linkEnd>;

export interface QkdLinkDeps {
  kube: KubeClient;
  links: Cache<QkdLink>;
  apps: Cache<MecApp>;
  index: ContextIndex;
  probePeriodMs: number;
  events: EventSink;
  now: () => number;
  log: Logger;
}

async function linkEndAt(url: string, local: string, remote: string, agent: Agent): Promise<LinkEnd> {
  const res = await mtlsGet(`${url.replace(/\/+$/, '')}/mecqkd/v1/links`, agent);
  if (res.status !== 200) throw new Error(`KME ${local} at ${url}: link status HTTP ${res.status}`);
  const parsed = linksResponse.parse(res.body);
  const end = parsed.links.find((l) => l.localKmeId === local && l.remoteKmeId === remote);
  if (!end) throw new Error(`KME ${local} at ${url} reports no link to ${remote}`);
  return end;
}

/** Both ends must agree that the link works; the weaker end bounds what the link delivers. */
export function combineEnds(
  a: LinkEnd,
  b: LinkEnd,
): Pick<
  QkdLinkStatus,
  | 'state'
  | 'secretKeyRate'
  | 'keyRate'
  | 'storedKeys'
  | 'capacityKeys'
  | 'keyAvailability'
  | 'keyAvailabilityPercent'
> {
  const order = ['OFF', 'PENDING', 'PASSIVE', 'ACTIVE'] as const;
  const state = order[Math.min(order.indexOf(a.status), order.indexOf(b.status))]!;
  const secretKeyRate = Math.min(a.skr, b.skr);
  const keyAvailability = Number(Math.min(a.keyAvailability, b.keyAvailability).toFixed(4));
  return {
    state,
    secretKeyRate,
    keyRate: bitRate(secretKeyRate),
    storedKeys: Math.min(a.storedKeyCount, b.storedKeyCount),
    capacityKeys: Math.min(a.maxKeyCount, b.maxKeyCount),
    keyAvailability,
    keyAvailabilityPercent: percent(keyAvailability),
  };
}

function expectedConsumption(d: QkdLinkDeps, link: QkdLink): number {
  let bits = 0;
  for (const [app, n] of d.index.linkUsers(
    link.metadata.namespace,
    link.spec.source.kmeId,
    link.spec.target.kmeId,
  )) {
    const a = d.apps.get(`${link.metadata.namespace}/${app}`);
    if (!a) continue;
    const p = a.spec.placement;
    bits += n * (p.expectedInvocationsPerSecond / p.invocationsPerKey) * p.keySizeBits;
  }
  return bits;
}

export function qkdLinkReconciler(d: QkdLinkDeps): Reconciler {
  return async (key) => {
    const link = d.links.get(key);
    if (!link) {
      tlsAgents.drop(`QkdLink ${key}`);
      return undefined;
    }
    const { source, target, credentialsSecret } = link.spec;
    const now = new Date(d.now());
    const gen = link.metadata.generation ?? 0;
    let measured: Partial<QkdLinkStatus> = {};
    let ready: { ok: boolean; reason: string; message: string };
    try {
      if (!credentialsSecret)
        throw new SecretError(
          'NoCredentials',
          'spec.credentialsSecret is needed to probe the KMEs over mutual TLS',
        );
      const tls = await tlsMaterial(d.kube, link.metadata.namespace!, credentialsSecret.name);
      const agent = tlsAgents.agentFor(`QkdLink ${key}`, tls);
      const [a, b] = await Promise.all([
        linkEndAt(source.url, source.kmeId, target.kmeId, agent),
        linkEndAt(target.url, target.kmeId, source.kmeId, agent),
      ]);
      measured = { ...combineEnds(a, b), probeTime: now.toISOString() };
      ready =
        measured.state === 'ACTIVE'
          ? {
              ok: true,
              reason: 'LinkActive',
              message: `${source.kmeId} ↔ ${target.kmeId} ACTIVE at ${Math.round(measured.secretKeyRate!)} b/s`,
            }
          : {
              ok: false,
              reason: `Link${measured.state![0]}${measured.state!.slice(1).toLowerCase()}`,
              message: `link state ${measured.state}`,
            };
    } catch (err) {
      const reason = err instanceof SecretError ? err.reason : 'ProbeFailed';
      ready = { ok: false, reason, message: (err as Error).message };
      d.log.warn('Probe of QkdLink failed', { key, reason, error: (err as Error).message });
      if (reason === SECRET_NOT_PERMITTED) {
        tlsAgents.drop(`QkdLink ${key}`);
        d.events.record(link, { type: 'Warning', reason, action: 'Probe', note: ready.message });
      }
    }
    const conditions = setCondition(
      link.status?.conditions ?? [],
      {
        type: 'Ready',
        status: ready.ok ? 'True' : 'False',
        reason: ready.reason,
        message: ready.message,
        observedGeneration: gen,
      },
      now,
    );
    const status: QkdLinkStatus = {
      ...(link.status ?? {}),
      ...measured,
      observedGeneration: gen,
      conditions,
      expectedConsumption: expectedConsumption(d, link),
    };
    if (!jsonEqual(link.status ?? {}, status)) {
      await d.kube.patchStatus(objectPath(QKD_LINKS, link.metadata.namespace, link.metadata.name), 'merge', {
        status,
      });
    }
    return { requeueAfterMs: d.probePeriodMs };
  };
}

export function qkdLinkController(d: QkdLinkDeps & { links: Informer<QkdLink> }, workers: number) {
  return new Controller<QkdLink>({
    name: 'qkdlink',
    logger: d.log,
    informer: d.links,
    workers,
    ignoreStatusOnlyUpdates: true,
    reconciler: qkdLinkReconciler(d),
  });
}
