// Both telemetry providers against real targets: two whisk-sims and a kme-sim topology, scraped by a real
// Prometheus and directly (one KME over mutual TLS). They must agree, and follow load driven through the
// openwhisk client and a drained QKD link.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '@mecqkd/common/process';
import { startTestbed, type Testbed } from '@mecqkd/kme-sim/testbed';
import { type PrometheusServer, startPrometheus } from '@mecqkd/localenv/prometheus';
import { type RunningWhiskSim, startWhiskSim } from '@mecqkd/whisk-sim/testbed';
import { expect } from 'chai';
import openwhisk from 'openwhisk';
import { prometheusProvider } from '../../src/telemetry/prometheus.ts';
import type { Collected } from '../../src/telemetry/provider.ts';
import { scrapeProvider } from '../../src/telemetry/scrape.ts';
import type { HostTarget, LinkTarget } from '../../src/telemetry/targets.ts';

const hostPort = (url: string) => new URL(url).host;
const KEY_BITS = 256;

describe('telemetry: Prometheus and direct-scrape providers on whisk-sim and kme-sim', function () {
  this.timeout(120_000);
  let dir: string;
  let sims: RunningWhiskSim[] = [];
  let kmes: Testbed | undefined;
  let prom: PrometheusServer | undefined;
  let hosts: HostTarget[];
  let links: LinkTarget[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mecqkd-telemetry-'));
    sims = await Promise.all(
      ['host-1', 'host-2'].map((name) => startWhiskSim({ dir, name, capacityMb: 512 })),
    );
    // Slow links with half-full stores, so availability is mid-range and moves slowly.
    kmes = await startTestbed(
      {
        kmes: [
          { id: 'kme-client', saes: ['sae-client'] },
          { id: 'kme-host-1', saes: ['sae-host-1'] },
          { id: 'kme-host-2', saes: ['sae-host-2'] },
        ],
        links: ['kme-host-1', 'kme-host-2'].map((h) => ({
          kmes: ['kme-client', h] as [string, string],
          skrBitsPerSecond: 100,
          capacityBits: 1_000_000,
          initialBits: 500_000,
        })),
      },
      join(dir, 'kme'),
    );
    const k = kmes.kmes;
    prom = await startPrometheus({
      jobs: [
        {
          job: 'openwhisk',
          targets: sims.map((s) => ({ address: hostPort(s.apiHost), labels: { host: s.name } })),
        },
        { job: 'kme', targets: Object.values(k).map((x) => ({ address: hostPort(x.opsUrl) })) },
      ],
    });
    hosts = sims.map((s) => ({ host: `edge/${s.name}`, metricsUrl: s.metricsUrl }));
    const sae = kmes.saes['sae-host-1']!;
    const mtls = {
      ca: readFileSync(sae.ca, 'utf8'),
      cert: readFileSync(sae.cert, 'utf8'),
      key: readFileSync(sae.key, 'utf8'),
    };
    links = ['host-1', 'host-2'].map((h) => ({
      link: `edge/client--${h}`,
      ends: [
        { kmeId: 'kme-client', metricsUrl: `${k['kme-client']!.opsUrl}/metrics` },
        // The host-1 KME over its QKD 014 listener, with a client certificate; host-2 on its ops port.
        h === 'host-1'
          ? { kmeId: `kme-${h}`, metricsUrl: `${k[`kme-${h}`]!.url}/metrics`, tls: mtls }
          : { kmeId: `kme-${h}`, metricsUrl: `${k[`kme-${h}`]!.opsUrl}/metrics` },
      ],
    }));
  });

  after(async () => {
    await prom?.stop();
    await kmes?.stop();
    await Promise.all(sims.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const viaPrometheus = () => prometheusProvider({ url: prom!.url }).collect(hosts, links);
  const viaScrape = () => scrapeProvider().collect(hosts, links);
  const load = (c: Collected, host: string) => c.hosts.find((h) => h.host === `edge/${host}`)?.load;
  const link = (c: Collected, name: string) => c.links.find((l) => l.link === `edge/client--${name}`);

  /** Polls both providers until `check` holds for each; returns the last two collections. */
  async function both(what: string, check: (c: Collected) => boolean) {
    let last: [Collected, Collected] | undefined;
    await waitUntil(
      what,
      async () => {
        last = [await viaPrometheus(), await viaScrape()];
        return last.every(check);
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    ).catch((err) => {
      throw new Error(`${(err as Error).message}; last: ${JSON.stringify(last)}`);
    });
    return last as [Collected, Collected];
  }

  it('agree on idle hosts and on the QKD links', async () => {
    const [p, s] = await both(
      'idle hosts and both links',
      (c) => c.hosts.length === 2 && c.links.length === 2,
    );
    expect(p.errors).to.deep.equal([]);
    expect(s.errors).to.deep.equal([]);
    for (const c of [p, s]) {
      expect(load(c, 'host-1')).to.equal(0);
      expect(load(c, 'host-2')).to.equal(0);
    }
    expect(p.hosts.every((h) => h.source === 'prometheus') && s.hosts.every((h) => h.source === 'scrape')).to
      .be.true;
    for (const name of ['host-1', 'host-2']) {
      const [a, b] = [link(p, name)!, link(s, name)!];
      expect(a.state).to.equal('ACTIVE');
      expect(b.state).to.equal('ACTIVE');
      expect(a.secretKeyRate).to.equal(100);
      expect(b.secretKeyRate).to.equal(100);
      expect(a.capacityKeys)
        .to.equal(b.capacityKeys)
        .and.equal(Math.floor(1_000_000 / KEY_BITS));
      expect(a.keyAvailability).to.be.within(0.5, 0.6);
      expect(a.keyAvailability).to.be.closeTo(b.keyAvailability, 0.01);
      expect(Math.abs(a.storedKeys - b.storedKeys)).to.be.at.most(5);
      expect(Date.now() - a.time).to.be.below(10_000);
    }
  });

  it('see the load rise on the host whose whisk-sim is invoked', async () => {
    const sim = sims[0]!;
    const ow = openwhisk({ apihost: sim.apiHost, api_key: sim.auth });
    await ow.actions.create({
      name: 'sleeper',
      action: 'function main(p) { return new Promise((r) => setTimeout(() => r({}), p.ms)); }',
      limits: { memory: 128 },
    });
    // Two activations of 128 MB on 512 MB of user memory: load 0.5 while they run.
    await Promise.all([1, 2].map(() => ow.actions.invoke({ name: 'sleeper', params: { ms: 6000 } })));
    const [p, s] = await both('host-1 at load 0.5', (c) => load(c, 'host-1') === 0.5);
    expect(load(p, 'host-2')).to.equal(0);
    expect(load(s, 'host-2')).to.equal(0);
    await both('host-1 idle again', (c) => load(c, 'host-1') === 0);
  });

  it('see a drained QKD link', async () => {
    await kmes!.adjustLink('kme-client', 'kme-client--kme-host-2', { storedBits: 0 });
    const [p, s] = await both(
      'link to host-2 drained',
      (c) => (link(c, 'host-2')?.keyAvailability ?? 1) < 0.01,
    );
    expect(link(p, 'host-1')!.keyAvailability).to.be.above(0.5);
    expect(link(s, 'host-1')!.keyAvailability).to.be.above(0.5);
  });

  it("fail a broken query with the server's error", async () => {
    const broken = prometheusProvider({ url: prom!.url, queries: { hostLoad: 'sum by (' } });
    let error: Error | undefined;
    await broken.collect(hosts, []).catch((err: Error) => {
      error = err;
    });
    expect(error?.message).to.match(/Prometheus http:\/\/127\.0\.0\.1:\d+: bad_data for sum by \(/);
  });

  it('report a host that is down instead of a sample', async () => {
    await sims[1]!.stop();
    const [p, s] = await both('host-2 gone', (c) => c.hosts.length === 1);
    for (const c of [p, s]) expect(c.errors.map((e) => e.target)).to.deep.equal(['edge/host-2']);
    expect(p.errors[0]!.error).to.match(/no load series with host="host-2"/);
  });
});
