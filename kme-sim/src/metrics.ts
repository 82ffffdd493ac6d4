// Prometheus metrics of one KME (its own registry, so several KMEs can share a process). Labels carry IDs
// of links, KMEs and known SAEs only — never key material, and never unvalidated path segments.
import { Counter, Gauge, Registry } from 'prom-client';
import type { Link } from './link.ts';
import { linkStatus } from './link-status.ts';

export interface KmeMetrics {
  registry: Registry;
  request(endpoint: string, code: number, master: string, slave: string): void;
  delivered(endpoint: 'enc_keys' | 'dec_keys', master: string, slave: string, count: number): void;
  quotaRefused(master: string): void;
}

const STATES = ['ACTIVE', 'PASSIVE', 'PENDING', 'OFF'] as const;

/** Key stock between a local master SAE and a slave SAE on another KME (bottleneck of the path). */
export interface PairStock {
  master: string;
  slave: string;
  targetKme: string;
  storedBits: number;
  capacityBits: number;
  skr: number;
}

export interface MetricSources {
  links: Link[];
  keySize: number;
  reservedKeys(): number;
  pairStocks(): Promise<PairStock[]>;
}

export function createKmeMetrics(kmeId: string, src: MetricSources) {
  const { links, keySize } = src;
  const registry = new Registry();
  registry.setDefaultLabels({ kme_id: kmeId });
  const linkLabels = ['link_id', 'peer_kme_id'] as const;
  const perLink = (name: string, help: string, value: (l: Link) => number) =>
    new Gauge({
      name,
      help,
      labelNames: linkLabels,
      registers: [registry],
      collect() {
        for (const l of links) this.set({ link_id: l.id, peer_kme_id: l.remoteKme }, value(l));
      },
    });
  perLink('kme_link_stored_bits', 'Key bits stored on the link', (l) => linkStatus(l, keySize).storedBits);
  perLink('kme_link_capacity_bits', 'Maximum key bits the link stores', (l) => l.capacityBits);
  perLink('kme_link_secret_key_rate_bits_per_second', 'Current secret key rate', (l) => l.skr());
  perLink('kme_link_expected_consumption_bits_per_second', 'Key bits/s consumed over the last 10 s', (l) =>
    l.expectedConsumption(),
  );
  perLink(
    'kme_link_key_availability',
    'Stored over capacity bits, in [0,1]',
    (l) => linkStatus(l, keySize).keyAvailability,
  );
  perLink('kme_link_consumed_bits', 'Key bits consumed since start', (l) => l.consumedBits());
  new Gauge({
    name: 'kme_link_state',
    help: 'QKD 015 link state: 1 for the current state',
    labelNames: [...linkLabels, 'state'],
    registers: [registry],
    collect() {
      for (const l of links) {
        const now = l.state();
        for (const s of STATES)
          this.set({ link_id: l.id, peer_kme_id: l.remoteKme, state: s }, s === now ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'kme_reserved_keys',
    help: 'Keys held for slave SAEs and not yet fetched',
    registers: [registry],
    collect() {
      this.set(src.reservedKeys());
    },
  });
  // The three per-pair gauges share one (possibly remote) lookup per scrape.
  let pending: Promise<PairStock[]> | undefined;
  const pairStocks = () => {
    pending ??= src.pairStocks().finally(() => setImmediate(() => (pending = undefined)));
    return pending;
  };
  const perPair = (name: string, help: string, value: (p: PairStock) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['master_sae_id', 'slave_sae_id', 'target_kme_id'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const p of await pairStocks()) {
          this.set({ master_sae_id: p.master, slave_sae_id: p.slave, target_kme_id: p.targetKme }, value(p));
        }
      },
    });
  perPair(
    'kme_sae_pair_stored_bits',
    'Key bits available to the SAE pair (bottleneck of the path)',
    (p) => p.storedBits,
  );
  perPair(
    'kme_sae_pair_capacity_bits',
    'Key store capacity for the SAE pair (bottleneck of the path)',
    (p) => p.capacityBits,
  );
  perPair(
    'kme_sae_pair_secret_key_rate_bits_per_second',
    'Secret key rate for the SAE pair (bottleneck)',
    (p) => p.skr,
  );
  const requests = new Counter({
    name: 'kme_requests_total',
    help: 'QKD 014 requests by endpoint, status code and SAE pair',
    labelNames: ['endpoint', 'code', 'master_sae_id', 'slave_sae_id'],
    registers: [registry],
  });
  const keys = new Counter({
    name: 'kme_keys_delivered_total',
    help: 'Keys delivered to SAEs by endpoint and SAE pair',
    labelNames: ['endpoint', 'master_sae_id', 'slave_sae_id'],
    registers: [registry],
  });
  const quotaRefusals = new Counter({
    name: 'kme_key_quota_refusals_total',
    help: 'enc_keys requests refused because the master SAE is past its key quota (app_qos)',
    labelNames: ['master_sae_id'],
    registers: [registry],
  });
  return {
    registry,
    quotaRefused: (master) => quotaRefusals.inc({ master_sae_id: master }),
    request: (endpoint, code, master, slave) =>
      requests.inc({ endpoint, code: String(code), master_sae_id: master, slave_sae_id: slave }),
    delivered: (endpoint, master, slave, count) =>
      keys.inc({ endpoint, master_sae_id: master, slave_sae_id: slave }, count),
  } satisfies KmeMetrics;
}
