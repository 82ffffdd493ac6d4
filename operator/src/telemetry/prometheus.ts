// Telemetry from a Prometheus server's HTTP API (GET /api/v1/query): one instant query per figure for the
// whole fleet. Host series are matched to MecHosts by a label (default `host`) that the scrape config adds
// per OpenWhisk target; link series carry kme_id / peer_kme_id from the KMEs themselves.

import type { Series } from '@mecqkd/common/exposition';
import { z } from 'zod';
import {
  CAPACITY_MEMORY,
  DEFAULT_KEY_SIZE_BITS,
  INFLIGHT_MEMORY,
  linkReadings,
  linkSample,
} from './normalise.ts';
import type { Collected, TelemetryProvider } from './provider.ts';
import { type HostTarget, hostName, type LinkTarget, parseTargets } from './targets.ts';

/** PromQL; `{{label}}` stands for the host label name. Link queries keep kme_id and peer_kme_id. */
export const DEFAULT_PROMQL = {
  hostLoad:
    `clamp_max(sum by ({{label}}) (${INFLIGHT_MEMORY})` + ` / sum by ({{label}}) (${CAPACITY_MEMORY}), 1)`,
  linkKeyAvailability: 'min by (kme_id, peer_kme_id) (kme_link_key_availability)',
  linkSecretKeyRate: 'min by (kme_id, peer_kme_id) (kme_link_secret_key_rate_bits_per_second)',
  linkStoredBits: 'min by (kme_id, peer_kme_id) (kme_link_stored_bits)',
  linkCapacityBits: 'min by (kme_id, peer_kme_id) (kme_link_capacity_bits)',
  linkState: 'max by (kme_id, peer_kme_id, state) (kme_link_state) == 1',
};
export type PromQlQueries = typeof DEFAULT_PROMQL;

/** The kme_link_* gauge each link query stands for (see normalise.ts). */
const LINK_GAUGES: Record<Exclude<keyof PromQlQueries, 'hostLoad'>, string> = {
  linkKeyAvailability: 'kme_link_key_availability',
  linkSecretKeyRate: 'kme_link_secret_key_rate_bits_per_second',
  linkStoredBits: 'kme_link_stored_bits',
  linkCapacityBits: 'kme_link_capacity_bits',
  linkState: 'kme_link_state',
};

export interface PrometheusProviderOptions {
  /** Base URL of the Prometheus server, e.g. http://prometheus.monitoring:9090. */
  url: string;
  /** Label naming the MecHost on OpenWhisk series (default `host`). */
  hostLabel?: string;
  queries?: Partial<PromQlQueries>;
  timeoutMs?: number;
  keySizeBits?: number;
  /** e.g. an Authorization header for a protected server. */
  headers?: Record<string, string>;
}

const queryResponse = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.object({
      resultType: z.literal('vector'),
      result: z.array(
        z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) }),
      ),
    }),
  }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);

interface Sampled {
  labels: Record<string, string>;
  value: number;
  time: number;
}

export function prometheusProvider(opts: PrometheusProviderOptions): TelemetryProvider {
  const base = opts.url.replace(/\/+$/, '');
  const label = opts.hostLabel ?? 'host';
  if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label)) throw new Error(`invalid Prometheus label name ${label}`);
  const queries = { ...DEFAULT_PROMQL, ...opts.queries };

  async function query(promql: string): Promise<Sampled[]> {
    const url = `${base}/api/v1/query?query=${encodeURIComponent(promql)}`;
    let body: unknown;
    try {
      const res = await fetch(url, {
        headers: opts.headers,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
      });
      body = await res.json();
    } catch (err) {
      throw new Error(`Prometheus ${base}: query ${promql} failed: ${(err as Error).message}`);
    }
    const parsed = queryResponse.safeParse(body);
    if (!parsed.success) throw new Error(`Prometheus ${base}: unexpected answer to ${promql}`);
    if (parsed.data.status === 'error')
      throw new Error(`Prometheus ${base}: ${parsed.data.errorType} for ${promql}: ${parsed.data.error}`);
    return parsed.data.data.result.map((r) => ({
      labels: r.metric,
      value: Number(r.value[1]),
      time: Math.round(r.value[0] * 1000),
    }));
  }

  return {
    source: 'prometheus',
    async collect(hostInput: readonly HostTarget[], linkInput: readonly LinkTarget[]): Promise<Collected> {
      const { hosts, links } = parseTargets([...hostInput], [...linkInput]);
      const out: Collected = { hosts: [], links: [], errors: [] };
      if (hosts.length > 0) {
        const loads = await query(queries.hostLoad.replaceAll('{{label}}', label));
        for (const h of hosts) {
          const want = h.label ?? hostName(h.host);
          const s = loads.find((x) => x.labels[label] === want);
          if (s && Number.isFinite(s.value))
            out.hosts.push({
              host: h.host,
              load: Math.min(1, Math.max(0, s.value)),
              time: s.time,
              source: 'prometheus',
            });
          else out.errors.push({ target: h.host, error: `no load series with ${label}="${want}"` });
        }
      }
      if (links.length > 0) {
        const series: Series[] = [];
        let time = 0;
        for (const [key, name] of Object.entries(LINK_GAUGES)) {
          for (const s of await query(queries[key as keyof typeof LINK_GAUGES])) {
            series.push({ name, labels: s.labels, value: s.value });
            time = Math.max(time, s.time);
          }
        }
        const readings = linkReadings(series);
        for (const l of links) {
          const sample = linkSample(
            l,
            readings,
            time,
            'prometheus',
            opts.keySizeBits ?? DEFAULT_KEY_SIZE_BITS,
          );
          if (sample) out.links.push(sample);
          else
            out.errors.push({
              target: l.link,
              error: `no kme_link series between ${l.ends[0].kmeId} and ${l.ends[1].kmeId}`,
            });
        }
      }
      return out;
    },
  };
}
