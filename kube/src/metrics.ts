// The operator's one Prometheus registry and every runtime metric, under the names client-go and
// controller-runtime use so stock dashboards work. Labels never carry object names (unbounded).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
// Only our registry: prom-client's global one would clash with metrics other libraries register there.
const registers = [registry];

const collectHooks = new Set<() => void>();

/** Runs `hook` before each scrape (for gauges derived from live state); returns the unregister function. */
export function onCollect(hook: () => void): () => void {
  collectHooks.add(hook);
  return () => collectHooks.delete(hook);
}

function runCollectHooks(): void {
  for (const hook of collectHooks) hook();
}

// client-go's workqueue buckets: ExponentialBuckets(10e-9, 10, 12).
const workqueueBuckets = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);

export const workqueueMetrics = {
  depth: new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue',
    labelNames: ['name'],
    registers,
  }),
  adds: new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames: ['name'],
    registers,
  }),
  queueDuration: new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    labelNames: ['name'],
    registers,
    buckets: workqueueBuckets,
  }),
  workDuration: new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes',
    labelNames: ['name'],
    registers,
    buckets: workqueueBuckets,
  }),
  retries: new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames: ['name'],
    registers,
  }),
  unfinishedWork: new Gauge({
    name: 'workqueue_unfinished_work_seconds',
    help: 'How many seconds of work has been done that is in progress and has not been observed by work_duration',
    labelNames: ['name'],
    registers,
    collect: runCollectHooks,
  }),
  longestRunning: new Gauge({
    name: 'workqueue_longest_running_processor_seconds',
    help: 'How many seconds has the longest running processor for workqueue been running',
    labelNames: ['name'],
    registers,
  }),
};

// controller-runtime's reconcile_time buckets (pkg/internal/controller/metrics/metrics.go).
const reconcileBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25,
  1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

export const controllerMetrics = {
  reconcileTotal: new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'],
    registers,
  }),
  reconcileErrors: new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'],
    registers,
  }),
  reconcileTime: new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'],
    registers,
    buckets: reconcileBuckets,
  }),
  activeWorkers: new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller',
    labelNames: ['controller'],
    registers,
  }),
  maxConcurrentReconciles: new Gauge({
    name: 'controller_runtime_max_concurrent_reconciles',
    help: 'Maximum number of concurrent reconciles per controller',
    labelNames: ['controller'],
    registers,
  }),
};

export const leaderElectionMetrics = {
  masterStatus: new Gauge({
    name: 'leader_election_master_status',
    help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master',
    labelNames: ['name'],
    registers,
  }),
  slowpath: new Counter({
    name: 'leader_election_slowpath_total',
    help: 'Total number of slow path exercised in renewing leader leases',
    labelNames: ['name'],
    registers,
  }),
};

export const informerMetrics = {
  lists: new Counter({
    name: 'mecqkd_informer_list_requests_total',
    help: 'LIST requests (pages counted once per relist) made by an informer',
    labelNames: ['informer'],
    registers,
  }),
  watches: new Counter({
    name: 'mecqkd_informer_watch_requests_total',
    help: 'WATCH requests made by an informer',
    labelNames: ['informer'],
    registers,
  }),
  events: new Counter({
    name: 'mecqkd_informer_events_total',
    help: 'Watch events received by an informer, by type',
    labelNames: ['informer', 'type'],
    registers,
  }),
  invalid: new Counter({
    name: 'mecqkd_informer_invalid_objects_total',
    help: 'Object versions that failed validation (the cache kept their last valid version)',
    labelNames: ['informer'],
    registers,
  }),
};

export const restClientMetrics = {
  requests: new Counter({
    name: 'rest_client_requests_total',
    help: 'Number of HTTP requests, partitioned by status code, method, and host',
    labelNames: ['code', 'method', 'host'],
    registers,
  }),
  rateLimiterDuration: new Histogram({
    name: 'rest_client_rate_limiter_duration_seconds',
    help: 'Client side rate limiter latency in seconds',
    labelNames: ['verb', 'host'],
    registers,
    buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
  }),
};

export const eventMetrics = {
  dropped: new Counter({
    name: 'mecqkd_events_dropped_total',
    help: 'Kubernetes Events not sent because the per-object spam filter was exhausted',
    labelNames: ['controller'],
    registers,
  }),
};

/** mecqkd's own: OpenWhisk actions this operator created and removed on hosts (redundant deploys show here). */
export const actionMetrics = {
  deployed: new Counter({
    name: 'mecqkd_actions_deployed_total',
    help: 'OpenWhisk actions created on MEC hosts',
    registers,
  }),
  removed: new Counter({
    name: 'mecqkd_actions_removed_total',
    help: 'OpenWhisk actions removed from MEC hosts',
    registers,
  }),
  migrations: new Counter({
    name: 'mecqkd_migrations_total',
    help: 'AppContexts moved between MEC hosts',
    labelNames: ['reason'],
    registers,
  }),
};
