// The world as placement sees it, built from the informers' caches and the context index. Pure:
// every input is passed in, including the clock.
import type { MecApp, MecHost, QkdLink } from '@mecqkd/crds';
import type { AppDemand, HostView, LinkView } from '../placement/types.ts';
import { DEFAULT_KEY_SIZE_BITS } from '../telemetry/normalise.ts';
import type { ContextIndex } from './context-index.ts';

export interface ViewOptions {
  /** Telemetry older than this is stale: the host or link is left out of placement. */
  maxTelemetryAgeMs: number;
  /** Expected duration of one activation, to turn invocations/s into occupied memory. */
  expectedActivationMs: number;
}

export function isTrue(conditions: { type: string; status: string }[] | undefined, type: string): boolean {
  return conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

function age(now: number, time: string | undefined): number {
  return time ? now - Date.parse(time) : Number.POSITIVE_INFINITY;
}

/**
 * Load one context adds: the OpenWhisk invoker memory its activations occupy on average
 * (invocations/s × activation time × action memory) over the smallest host's user memory, so the
 * estimate never under-charges a host.
 */
export function appDemand(app: MecApp, hosts: MecHost[], opts: ViewOptions): AppDemand {
  const { placement, action } = app.spec;
  const smallestHostMb = Math.min(...hosts.map((h) => h.spec.capacity.memoryMb), Number.POSITIVE_INFINITY);
  const busyMb =
    placement.expectedInvocationsPerSecond * (opts.expectedActivationMs / 1000) * action.limits.memoryMb;
  return {
    app: app.metadata.name,
    ...(placement.hostSelector ? { hostSelector: placement.hostSelector } : {}),
    ...(app.spec.appInfo.appLocation ? { appLocation: app.spec.appInfo.appLocation } : {}),
    maxLoad: placement.maxLoad,
    minKeyAvailability: placement.minKeyAvailability,
    keyRate: (placement.expectedInvocationsPerSecond / placement.invocationsPerKey) * placement.keySizeBits,
    loadPerContext: Number.isFinite(smallestHostMb) ? Math.min(1, busyMb / smallestHostMb) : 0,
  };
}

/** What a host's view takes from the MecHost object alone, memoised per cached object. */
interface HostStatic {
  name: string;
  /** "namespace/name": what the context index is keyed by. */
  key: string;
  labels: Record<string, string>;
  location: HostView['location'];
  kmeId: string;
  maxContexts: number | undefined;
  memoryMb: number;
  readyCondition: boolean;
  measuredAt: number;
  load: number | undefined;
}
const statics = new WeakMap<MecHost, HostStatic>();

function hostStatic(h: MecHost): HostStatic {
  const cached = statics.get(h);
  if (cached) return cached;
  const s = h.status;
  const fresh: HostStatic = {
    name: h.metadata.name,
    key: `${h.metadata.namespace}/${h.metadata.name}`,
    labels: h.metadata.labels ?? {},
    location: h.spec.location,
    kmeId: h.spec.kme.kmeId,
    maxContexts: h.spec.capacity.maxContexts || undefined,
    memoryMb: h.spec.capacity.memoryMb,
    readyCondition: !h.metadata.deletionTimestamp && isTrue(s?.conditions, 'Ready'),
    measuredAt: s?.telemetryTime ? Date.parse(s.telemetryTime) : 0,
    load: s?.load,
  };
  statics.set(h, fresh); // cached objects are immutable: a new version is a new object
  return fresh;
}

export function hostViews(
  hosts: MecHost[],
  index: ContextIndex,
  demandOf: (app: string) => AppDemand | undefined,
  now: number,
  opts: ViewOptions,
): HostView[] {
  const loadOf = (app: string) => demandOf(app)?.loadPerContext ?? 0;
  // Built for every host on every placement: one fixed object shape, no spreads (they were most of
  // the operator's placement CPU at 10,000 contexts).
  return hosts.map((h) => {
    const st = hostStatic(h);
    const fresh = st.load !== undefined && now - st.measuredAt <= opts.maxTelemetryAgeMs;
    // contexts placed after the measurement add load the measurement cannot show yet
    const unseen = index.placedSince(st.key, st.measuredAt, loadOf);
    return {
      name: st.name,
      ready: fresh && st.readyCondition,
      labels: st.labels,
      location: st.location,
      kmeId: st.kmeId,
      load: Math.min(1, (st.load ?? 1) + unseen),
      contexts: index.contextCount(st.key),
      maxContexts: st.maxContexts,
      memoryMb: st.memoryMb,
    };
  });
}

export function linkViews(
  links: QkdLink[],
  index: ContextIndex,
  demandOf: (app: string) => AppDemand | undefined,
  now: number,
  opts: ViewOptions,
): LinkView[] {
  return links.map((l) => {
    const s = l.status;
    const ends: [string, string] = [l.spec.source.kmeId, l.spec.target.kmeId];
    let committed = 0;
    for (const [app, n] of index.linkUsers(l.metadata.namespace, ...ends))
      committed += n * (demandOf(app)?.keyRate ?? 0);
    return {
      name: l.metadata.name,
      ends,
      state: s?.state ?? 'PENDING',
      keyAvailability: s?.keyAvailability ?? 0,
      secretKeyRate: s?.secretKeyRate ?? 0,
      committedKeyRate: committed,
      // telemetry counts stored keys of the default size (the KMEs report bits)
      storedKeyBits: s?.storedKeys === undefined ? undefined : s.storedKeys * DEFAULT_KEY_SIZE_BITS,
      fresh: age(now, s?.probeTime) <= opts.maxTelemetryAgeMs && !l.metadata.deletionTimestamp,
    };
  });
}
