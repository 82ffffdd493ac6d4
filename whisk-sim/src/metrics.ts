// Prometheus metrics under OpenWhisk's names: the user-events service's per-action series and the
// controller's load balancer / invoker's container pool gauges (Kamon names with tags), so the same
// PromQL computes per-host load on whisk-sim and on a real OpenWhisk. One registry per server.
import { Counter, Gauge, Histogram, linearBuckets, Registry } from 'prom-client';
import type { PoolStats } from './runtime/pool.ts';

const MB = 1024 * 1024;
const actionLabels = ['namespace', 'initiator', 'action'] as const;

export interface InflightStats {
  count: number;
  memoryMb: number;
}

export interface CompletedActivation {
  namespace: string;
  initiator: string;
  action: string;
  kind: string;
  memoryMb: number;
  status: string;
  cold: boolean;
  waitMs: number;
  initMs?: number;
  durationMs: number;
  responseBytes: number;
}

export function createMetrics(opts: {
  capacityMb: number;
  pool: () => PoolStats;
  inflight: () => InflightStats;
}) {
  const registry = new Registry();
  const registers = [registry];
  const controller = { controller_id: '0' };

  const activations = new Counter({
    name: 'openwhisk_action_activations_total',
    help: 'Activations per action',
    labelNames: [...actionLabels, 'kind', 'memory'],
    registers,
  });
  const coldStarts = new Counter({
    name: 'openwhisk_action_coldStarts_total',
    help: 'Cold starts per action',
    labelNames: actionLabels,
    registers,
  });
  // No `_total`: the user-events service registers this counter under this exact name.
  const status = new Counter({
    name: 'openwhisk_action_status',
    help: 'Activation results per status',
    labelNames: [...actionLabels, 'status'],
    registers,
  });
  const seconds = (name: string, help: string) =>
    new Histogram({ name, help, labelNames: actionLabels, registers });
  const waitTime = seconds('openwhisk_action_waitTime_seconds', 'Time from receipt to start');
  const initTime = seconds('openwhisk_action_initTime_seconds', 'Initialisation time of cold starts');
  const duration = seconds('openwhisk_action_duration_seconds', 'Activation duration');
  const responseSize = new Histogram({
    name: 'openwhisk_action_response_size_bytes',
    help: 'Activation result size',
    labelNames: actionLabels,
    buckets: linearBuckets(MB, MB, 10),
    registers,
  });
  const memory = new Gauge({
    name: 'openwhisk_action_memory',
    help: 'Memory limit of the action (MB)',
    labelNames: actionLabels,
    registers,
  });
  const limitConcurrent = new Counter({
    name: 'openwhisk_action_limit_concurrent_total',
    help: 'Invocations rejected by the concurrency throttle',
    labelNames: ['namespace'],
    registers,
  });
  const limitTimed = new Counter({
    name: 'openwhisk_action_limit_timed_total',
    help: 'Invocations rejected by the per-minute throttle',
    labelNames: ['namespace'],
    registers,
  });

  const gauge = (name: string, help: string, labels: Record<string, string>, value: () => number) =>
    new Gauge({
      name,
      help,
      labelNames: Object.keys(labels),
      registers,
      collect() {
        this.set(labels, value());
      },
    });
  gauge(
    'gauge_loadbalancer_activationsInflight_counter',
    'Activations in flight',
    controller,
    () => opts.inflight().count,
  );
  gauge(
    'gauge_loadbalancer_memoryManagedInflight_counter',
    'Memory (MB) of activations in flight',
    controller,
    () => opts.inflight().memoryMb,
  );
  gauge(
    'gauge_loadbalancer_totalCapacityManaged_counter',
    'User memory (MB)',
    controller,
    () => opts.capacityMb,
  );
  gauge('gauge_loadbalancer_totalHealthyInvokerManaged_counter', 'Healthy invokers', controller, () => 1);
  gauge('gauge_containerPool_activeCount_counter', 'Busy containers', {}, () => opts.pool().activeCount);
  gauge('gauge_containerPool_idlesCount_counter', 'Idle warm containers', {}, () => opts.pool().idlesCount);
  gauge('gauge_containerPool_prewarmCount_counter', 'Prewarmed containers', {}, () => 0);
  gauge(
    'gauge_containerPool_runBufferCount_counter',
    'Activations waiting for memory',
    {},
    () => opts.pool().runBufferCount,
  );
  gauge(
    'gauge_containerPool_activeSize_counter_bytes',
    'Memory of busy containers',
    {},
    () => opts.pool().activeSizeMb * MB,
  );
  gauge(
    'gauge_containerPool_idlesSize_counter_bytes',
    'Memory of idle containers',
    {},
    () => opts.pool().idlesSizeMb * MB,
  );
  const lbActivations = new Counter({
    name: 'counter_loadbalancer_activations_counter_total',
    help: 'Activations scheduled',
    labelNames: ['controller_id'],
    registers,
  });
  const containerStarts = new Counter({
    name: 'counter_invoker_containerStart_counter_total',
    help: 'Containers handed to activations',
    labelNames: ['containerState'],
    registers,
  });
  const blockingFinish = new Histogram({
    name: 'histogram_controller_blockingActivation_finish_seconds',
    help: 'Blocking activations, receipt to response',
    labelNames: ['controller_id'],
    registers,
  });

  return {
    registry,
    scheduled(): void {
      lbActivations.inc(controller);
    },
    containerStarted(state: 'cold' | 'warmed'): void {
      containerStarts.inc({ containerState: state });
    },
    throttled(namespace: string, kind: 'concurrent' | 'timed'): void {
      (kind === 'concurrent' ? limitConcurrent : limitTimed).inc({ namespace });
    },
    blockingFinished(ms: number): void {
      blockingFinish.observe(controller, ms / 1000);
    },
    completed(a: CompletedActivation): void {
      const labels = { namespace: a.namespace, initiator: a.initiator, action: a.action };
      activations.inc({ ...labels, kind: a.kind, memory: String(a.memoryMb) });
      if (a.cold) coldStarts.inc(labels);
      status.inc({ ...labels, status: a.status });
      waitTime.observe(labels, a.waitMs / 1000);
      if (a.initMs !== undefined) initTime.observe(labels, a.initMs / 1000);
      duration.observe(labels, a.durationMs / 1000);
      responseSize.observe(labels, a.responseBytes);
      memory.set(labels, a.memoryMb);
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
