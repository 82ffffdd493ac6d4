// Mx2 (ETSI GS MEC 016): what device apps ask the LCMP, how fast it answers, notification delivery.
import { type DashboardSpec, q } from './model.ts';

const notifications = (what: 'delivered' | 'retried' | 'abandoned') =>
  q(
    `sum by (type) (increase(mecqkd_lcmp_notifications_${what}_total[$__rate_interval]))`,
    `${what} {{type}}`,
  );

export const mx2: DashboardSpec = {
  uid: 'mecqkd-mx2',
  title: 'mecqkd / Mx2',
  description:
    'LCMP request rate and latency by operation and status; notifications delivered, retried, abandoned.',
  panels: [
    {
      title: 'Requests by operation and status',
      description: 'Mx2 and token endpoint requests per second.',
      unit: 'reqps',
      queries: [
        q(
          'sum by (operation, status) (rate(mecqkd_lcmp_requests_total[$__rate_interval]))',
          '{{operation}} {{status}}',
        ),
      ],
    },
    {
      title: 'Latency p95 by operation',
      description: 'Time to answer, 95th percentile (a create waits for the placement).',
      unit: 's',
      queries: [
        q(
          'histogram_quantile(0.95, sum by (operation, le) (rate(mecqkd_lcmp_request_duration_seconds_bucket[$__rate_interval])))',
          '{{operation}}',
        ),
      ],
    },
    {
      title: 'Notifications delivered',
      description: 'Notifications the device apps acknowledged, by type.',
      unit: 'short',
      queries: [notifications('delivered')],
    },
    {
      title: 'Notifications retried and abandoned',
      description: 'Failed deliveries retried with back-off, and those given up.',
      unit: 'short',
      queries: [notifications('retried'), notifications('abandoned')],
    },
  ],
};
