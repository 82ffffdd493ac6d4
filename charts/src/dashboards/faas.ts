// FaaS per host: each MEC host's OpenWhisk (or whisk-sim), selected by the `mec_host` label the
// scrape configuration attaches (the chart's ServiceMonitor relabels it from the pod label).
import { type DashboardSpec, q } from './model.ts';

const sel = 'mec_host=~"$host"';

export const faas: DashboardSpec = {
  uid: 'mecqkd-faas',
  title: 'mecqkd / FaaS per host',
  description: 'Activations, cold starts, duration and load of each MEC host OpenWhisk.',
  variables: { host: ['openwhisk_action_activations_total', 'mec_host'] },
  panels: [
    {
      title: 'Activations',
      description: 'Activations per second by host and action.',
      unit: 'ops',
      queries: [
        q(
          `sum by (mec_host, action) (rate(openwhisk_action_activations_total{${sel}}[$__rate_interval]))`,
          '{{mec_host}} {{action}}',
        ),
      ],
    },
    {
      title: 'Cold starts',
      description: 'Activations that needed a new container.',
      unit: 'short',
      queries: [
        q(
          `sum by (mec_host) (increase(openwhisk_action_coldStarts_total{${sel}}[$__rate_interval]))`,
          '{{mec_host}}',
        ),
      ],
    },
    {
      title: 'Duration p95',
      description: 'Run time of activations, 95th percentile.',
      unit: 's',
      queries: [
        q(
          `histogram_quantile(0.95, sum by (mec_host, le) (rate(openwhisk_action_duration_seconds_bucket{${sel}}[$__rate_interval])))`,
          '{{mec_host}}',
        ),
      ],
    },
    {
      title: 'Load',
      description:
        "Memory of activations in flight over the invoker user memory, and the operator's load figure.",
      unit: 'percentunit',
      queries: [
        q(
          `sum by (mec_host) (gauge_loadbalancer_memoryManagedInflight_counter{${sel}}) / sum by (mec_host) (gauge_loadbalancer_totalCapacityManaged_counter{${sel}})`,
          'in flight {{mec_host}}',
        ),
        q('max by (host) (mecqkd_mechost_load{host=~"$host"})', 'operator {{host}}'),
      ],
    },
  ],
};
