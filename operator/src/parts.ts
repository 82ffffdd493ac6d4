// The operator's outside connections, built from its configuration: Redis (telemetry store), the
// telemetry provider (Prometheus or direct scrape) and the Event recorder.
import type { Logger } from '@mecqkd/common/logger';
import { EventRecorder } from '@mecqkd/kube/events';
import { createKubeClient } from '@mecqkd/kube/kube-client';
import { Redis } from 'ioredis';
import type { OperatorConfig } from './config.ts';
import type { OperatorParts } from './operator.ts';
import { prometheusProvider } from './telemetry/prometheus.ts';
import { scrapeProvider } from './telemetry/scrape.ts';
import { telemetryStore } from './telemetry/store.ts';

export async function buildParts(cfg: OperatorConfig, log: Logger): Promise<OperatorParts> {
  if (cfg.telemetry === 'prometheus' && !cfg.prometheusUrl)
    throw new Error('--telemetry prometheus needs --prometheus-url');
  const redis = new Redis(cfg.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  await redis.connect().catch((err: Error) => {
    throw new Error(`cannot reach Redis at ${cfg.redisUrl}: ${err.message}`);
  });
  const eventClient = await createKubeClient(cfg.kubeconfig ? { kubeconfigPath: cfg.kubeconfig } : {});
  const events = new EventRecorder({
    client: eventClient,
    reportingController: 'mecqkd.io/operator',
    reportingInstance: cfg.identity ?? `operator-${process.pid}`,
    logger: log.child({ component: 'events' }),
  });
  return {
    telemetry:
      cfg.telemetry === 'prometheus' ? prometheusProvider({ url: cfg.prometheusUrl! }) : scrapeProvider(),
    store: telemetryStore(redis, { maxAgeMs: cfg.maxTelemetryAge * 1000 }),
    events,
    close: async () => {
      await events.flush();
      await eventClient.close();
      redis.disconnect();
    },
    log,
  };
}
