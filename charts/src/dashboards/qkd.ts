// QKD: the links' key rates and stores as the KMEs report them, and who consumes keys.
import { type DashboardSpec, q } from './model.ts';

export const qkd: DashboardSpec = {
  uid: 'mecqkd-qkd',
  title: 'mecqkd / QKD',
  description: 'Secret key rate, stored keys and key availability per QKD link; keys consumed per app.',
  panels: [
    {
      title: 'Secret key rate per link',
      description: 'Bits per second each QKD link distils (the lower of its two ends).',
      unit: 'bps',
      queries: [q('min by (link_id) (kme_link_secret_key_rate_bits_per_second)', '{{link_id}}')],
    },
    {
      title: 'Stored key per link',
      description: 'Key bits in store for each link.',
      unit: 'short',
      queries: [q('min by (link_id) (kme_link_stored_bits)', '{{link_id}}')],
    },
    {
      title: 'Key availability per link',
      description: 'Stored key over the key the link is expected to consume, capped at 1.',
      unit: 'percentunit',
      queries: [q('min by (link_id) (kme_link_key_availability)', '{{link_id}}')],
    },
    {
      title: 'Key availability per MEC host',
      description: "The operator's figure used for placement (status.keyAvailability).",
      unit: 'percentunit',
      queries: [q('max by (host) (mecqkd_mechost_key_availability)', '{{host}}')],
    },
    {
      title: 'Keys consumed per app (client SAE)',
      description: 'enc_keys deliveries by master SAE: each client app has its SAE identity.',
      unit: 'ops',
      queries: [
        q(
          'sum by (master_sae_id) (rate(kme_keys_delivered_total{endpoint="enc_keys"}[$__rate_interval]))',
          '{{master_sae_id}}',
        ),
      ],
    },
    {
      title: 'Keys fetched by host SAEs',
      description: 'dec_keys calls of each host SAE (one key serves several invocations).',
      unit: 'ops',
      queries: [
        q('sum by (sae_id) (rate(mecqkd_host_sae_keys_fetched_total[$__rate_interval]))', '{{sae_id}}'),
      ],
    },
  ],
};
