// Everything one running KME's request handlers need.
import type { Logger } from '@mecqkd/common/logger';
import type { KmeConfig } from './config.ts';
import type { KmeMetrics } from './metrics.ts';
import type { SaeQuotas } from './quota.ts';
import type { RelayContext } from './relay.ts';
import type { Topology } from './topology.ts';

export interface KmeContext extends RelayContext {
  cfg: KmeConfig;
  topology: Topology;
  metrics: KmeMetrics;
  log: Logger;
  quotas: SaeQuotas;
  /** When each SAE's quota refusals were last logged (once a minute each; they are counted always). */
  quotaRefusalLogged: Map<string, number>;
}
