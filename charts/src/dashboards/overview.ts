// MEC overview: where the contexts are, how placement and migration go, how the operator keeps up.
import { type DashboardSpec, q } from './model.ts';

export const overview: DashboardSpec = {
  uid: 'mecqkd-overview',
  title: 'mecqkd / MEC overview',
  description: 'AppContexts per host and phase, placements and migrations, the reconcilers and their queues.',
  panels: [
    {
      title: 'AppContexts by host and phase',
      description: 'From the leading operator cache; host "" means not placed.',
      unit: 'short',
      queries: [q('sum by (host, phase) (mecqkd_appcontexts)', '{{host}} {{phase}}')],
    },
    {
      title: 'Placed contexts per host',
      description: 'AppContexts in phase Placed on each MEC host, over time.',
      unit: 'short',
      queries: [q('sum by (host) (mecqkd_appcontexts{phase="Placed"})', '{{host}}')],
    },
    {
      title: 'Migrations',
      description: 'Contexts moved between hosts by the optimiser, by reason.',
      unit: 'short',
      queries: [q('sum by (reason) (increase(mecqkd_migrations_total[$__rate_interval]))', '{{reason}}')],
    },
    {
      title: 'Actions deployed and removed',
      description: 'OpenWhisk actions the operator created on and removed from hosts.',
      unit: 'short',
      queries: [
        q('sum(increase(mecqkd_actions_deployed_total[$__rate_interval]))', 'deployed'),
        q('sum(increase(mecqkd_actions_removed_total[$__rate_interval]))', 'removed'),
      ],
    },
    {
      title: 'Reconciles',
      description: 'Reconcile rate by controller and result.',
      unit: 'ops',
      queries: [
        q(
          'sum by (controller, result) (rate(controller_runtime_reconcile_total[$__rate_interval]))',
          '{{controller}} {{result}}',
        ),
      ],
    },
    {
      title: 'Reconcile latency (p50, p99)',
      description: 'Time per reconcile, by controller.',
      unit: 's',
      queries: [
        q(
          'histogram_quantile(0.5, sum by (controller, le) (rate(controller_runtime_reconcile_time_seconds_bucket[$__rate_interval])))',
          'p50 {{controller}}',
        ),
        q(
          'histogram_quantile(0.99, sum by (controller, le) (rate(controller_runtime_reconcile_time_seconds_bucket[$__rate_interval])))',
          'p99 {{controller}}',
        ),
      ],
    },
    {
      title: 'Reconcile errors',
      description: 'Reconciles that returned an error (they are retried with back-off).',
      unit: 'ops',
      queries: [
        q(
          'sum by (controller) (rate(controller_runtime_reconcile_errors_total[$__rate_interval]))',
          '{{controller}}',
        ),
      ],
    },
    {
      title: 'Work-queue depth',
      description: 'Keys waiting in each controller queue.',
      unit: 'short',
      queries: [q('sum by (name) (workqueue_depth)', '{{name}}')],
    },
  ],
};
