// The direct-scrape fallback for setups without a Prometheus server: fetch each host OpenWhisk's /metrics
// and each KME's /metrics (HTTPS with mutual TLS where the target gives certificates), parse the text
// exposition, and compute the same normalised values as the default PromQL (normalise.ts).

import { parseExposition, type Series } from '@mecqkd/common/exposition';
import { Agent, fetch } from 'undici';
import { DEFAULT_KEY_SIZE_BITS, hostLoad, linkReadings, linkSample } from './normalise.ts';
import type { Collected, TelemetryProvider } from './provider.ts';
import { type HostTarget, type KmeEndpoint, type LinkTarget, parseTargets } from './targets.ts';

export interface ScrapeProviderOptions {
  timeoutMs?: number;
  keySizeBits?: number;
}

export function scrapeProvider(opts: ScrapeProviderOptions = {}): TelemetryProvider {
  const timeoutMs = opts.timeoutMs ?? 5000;
  return {
    source: 'scrape',
    async collect(hostInput: readonly HostTarget[], linkInput: readonly LinkTarget[]): Promise<Collected> {
      const { hosts, links } = parseTargets([...hostInput], [...linkInput]);
      const agents: Agent[] = [];
      const agent = (connect: ConstructorParameters<typeof Agent>[0]) => {
        const a = new Agent(connect);
        agents.push(a);
        return a;
      };
      const insecure = agent({ connect: { rejectUnauthorized: false } });
      async function scrape(url: string, dispatcher?: Agent): Promise<Series[]> {
        const res = await fetch(url, { dispatcher, signal: AbortSignal.timeout(timeoutMs) });
        if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
        return parseExposition(await res.text());
      }
      const out: Collected = { hosts: [], links: [], errors: [] };
      try {
        const hostWork = hosts.map(async (h) => {
          if (!h.metricsUrl) {
            out.errors.push({ target: h.host, error: 'no metricsUrl to scrape' });
            return;
          }
          try {
            const series = await scrape(h.metricsUrl, h.insecure ? insecure : undefined);
            const time = Date.now();
            const load = hostLoad(series);
            if (load === undefined) throw new Error(`${h.metricsUrl} has no OpenWhisk capacity gauge`);
            out.hosts.push({ host: h.host, load, time, source: 'scrape' });
          } catch (err) {
            out.errors.push({ target: h.host, error: (err as Error).message });
          }
        });
        // Each KME once, however many links it ends.
        const kmes = new Map<string, KmeEndpoint>();
        for (const l of links) for (const e of l.ends) if (e.metricsUrl) kmes.set(e.metricsUrl, e);
        const series: Series[] = [];
        let time = 0;
        const kmeWork = [...kmes.values()].map(async (e) => {
          const url = e.metricsUrl as string;
          try {
            const dispatcher = e.tls
              ? agent({ connect: { ca: e.tls.ca, cert: e.tls.cert, key: e.tls.key } })
              : undefined;
            series.push(...(await scrape(url, dispatcher)));
            time = Math.max(time, Date.now());
          } catch (err) {
            out.errors.push({ target: `kme ${e.kmeId}`, error: (err as Error).message });
          }
        });
        await Promise.all([...hostWork, ...kmeWork]);
        const readings = linkReadings(series);
        for (const l of links) {
          const sample = linkSample(l, readings, time, 'scrape', opts.keySizeBits ?? DEFAULT_KEY_SIZE_BITS);
          if (sample) out.links.push(sample);
          else
            out.errors.push({
              target: l.link,
              error: `no kme_link series between ${l.ends[0].kmeId} and ${l.ends[1].kmeId} from either end`,
            });
        }
        return out;
      } finally {
        await Promise.all(agents.map((a) => a.close()));
      }
    },
  };
}
