// The interface both telemetry sources implement. A target that cannot be measured is reported in
// `errors` (and yields no sample) rather than failing the whole collection.
import type { HostTarget, LinkTarget } from './targets.ts';
import type { HostSample, LinkSample } from './types.ts';

export interface Collected {
  hosts: HostSample[];
  links: LinkSample[];
  /** Per target ("namespace/name") or per endpoint: why it has no sample. */
  errors: { target: string; error: string }[];
}

export interface TelemetryProvider {
  readonly source: 'prometheus' | 'scrape';
  collect(hosts: readonly HostTarget[], links: readonly LinkTarget[]): Promise<Collected>;
}
