// Telemetry poll: measure each MecHost's platform load with the configured provider (Prometheus or
// direct scrape), keep the normalised samples in the store (Redis), and wake the hosts whose load
// moved so their status — what placement reads — follows.
import type { Logger } from '@mecqkd/common/logger';
import type { MecHost } from '@mecqkd/crds';
import { objectKey } from '@mecqkd/kube/kube-paths';
import type { TelemetryProvider } from '../telemetry/provider.ts';
import type { HostTarget } from '../telemetry/targets.ts';
import type { HostSample } from '../telemetry/types.ts';

export interface HostSampleStore {
  putHosts(samples: readonly HostSample[]): Promise<void>;
}

/** `allowInsecure` (--allow-insecure-hosts) gates skipping TLS verification here as in the probes. */
export function hostTarget(h: MecHost, allowInsecure: boolean): HostTarget {
  return {
    host: objectKey(h),
    label: h.metadata.name,
    ...(h.spec.metricsUrl ? { metricsUrl: h.spec.metricsUrl } : {}),
    insecure: allowInsecure && h.spec.openwhisk.insecure,
  };
}

/** One poll; returns the keys of the hosts that got a sample. */
export async function pollTelemetry(
  hosts: readonly MecHost[],
  provider: TelemetryProvider,
  store: HostSampleStore,
  log: Logger,
  allowInsecure: boolean,
): Promise<string[]> {
  if (hosts.length === 0) return [];
  const collected = await provider.collect(
    hosts.map((h) => hostTarget(h, allowInsecure)),
    [],
  );
  for (const e of collected.errors) log.debug('Host telemetry missing', { host: e.target, error: e.error });
  await store.putHosts(collected.hosts);
  return collected.hosts.map((s) => s.host);
}
