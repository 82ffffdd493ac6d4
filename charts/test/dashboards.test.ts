// Every dashboard panel against a real Prometheus that scraped a demo-like run: contexts created
// through Mx2 with callbacks (one device app acknowledges, one never does), secure invocations,
// a drained QKD link that makes the operator migrate. Each panel query must return finite data;
// each component's /metrics must pass `promtool check metrics`. The panels are then drawn (SVG)
// from the same results into MECQKD_DASHBOARD_SVG_DIR (default .run/dashboards).
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppContext } from '@mecqkd/crds';
import { type PrometheusServer, type ScrapeJob, startPrometheus } from '@mecqkd/localenv/prometheus';
import { expect } from 'chai';
import { call, createBody, mecApp, Receiver, startWorld, type World } from '../../lcmp/test/support.ts';
import { clientKme, eventually, getJson, secureInvoker } from '../../operator/test/e2e/support.ts';
import { DASHBOARDS } from '../src/dashboards/index.ts';
import { concreteQuery } from '../src/dashboards/model.ts';
import { dashboardSvg, type Series } from '../src/dashboards/render.ts';

const SVG_DIR =
  process.env.MECQKD_DASHBOARD_SVG_DIR ?? join(import.meta.dirname, '..', '..', '.run', 'dashboards');
const hostPort = (url: string) => new URL(url).host;

async function promtoolCheck(text: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr }),
    );
    child.stdin?.end(text);
  });
}

/**
 * promtool's naming lint findings that are deliberate: whisk-sim exposes OpenWhisk's own metric
 * names (so OpenWhisk's dashboards and the operator's telemetry read both alike), and kme-sim counts
 * key in bits, the unit of ETSI GS QKD 014/015; and prom-client's default metrics keep their names.
 * Anything else promtool reports fails the test.
 */
const DELIBERATE: Record<string, RegExp> = {
  whisk:
    /^\S+ (metric name should not include type 'counter'|(metric|label) names should be written in 'snake_case' not 'camelCase'|counter metrics should have "_total" suffix)$/,
  kme: /^kme_\w+_bits(_per_second)? use base unit "bytes" instead of "bits"$/,
};
/** prom-client's default Node.js metrics (the names every Node.js dashboard reads): three gauges end in _total. */
const PROM_CLIENT_DEFAULTS =
  /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;
const deliberate = (job: string, finding: string) =>
  PROM_CLIENT_DEFAULTS.test(finding) || (DELIBERATE[job]?.test(finding) ?? false);

const SCRAPE_GAP_MS = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The value of a one-series instant query, undefined when it has none. */
async function instant(prom: PrometheusServer, expr: string): Promise<number | undefined> {
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { data?: { result: { value: [number, string] }[] } };
  const v = body.data?.result[0]?.value[1];
  return v === undefined ? undefined : Number(v);
}

async function queryRange(
  prom: PrometheusServer,
  expr: string,
  start: number,
  end: number,
): Promise<Series[]> {
  const params = new URLSearchParams({ query: expr, start: String(start), end: String(end), step: '2' });
  const res = await fetch(`${prom.url}/api/v1/query_range?${params}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { result: Series[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data!.result;
}

describe('dashboards against Prometheus after a demo-like run', function () {
  this.timeout(300_000);
  let w: World;
  let prom: PrometheusServer;
  let t0: number;
  const receivers: Receiver[] = [];
  const targets: Record<string, string[]> = {};

  before(async () => {
    t0 = Date.now() / 1000;
    w = await startWorld(
      'dash',
      [mecApp('cardio', {}, { minKeyAvailability: 0.2 })],
      { notifyGiveUp: 3, notifyBackoff: 0.2, notifyMaxBackoff: 0.5 },
      { migrationCooldown: 600 },
    );
    const { tb } = w;
    targets.operator = [`127.0.0.1:${w.op.health.port}`];
    targets.lcmp = [`127.0.0.1:${w.lcmp.health.port}`];
    targets.kme = Object.values(tb.kmes.kmes).map((k) => hostPort(k.opsUrl));
    targets['host-sae'] = Object.values(tb.secure.hostSaes).map((s) => hostPort(s.opsUrl));
    // in one process the operator's and the LCMP's /metrics show one registry: Prometheus scrapes it
    // once (via the operator), or every series would count twice; promtool checks both
    const jobs: ScrapeJob[] = [
      ...['operator', 'kme'].map((job) => ({
        job,
        targets: targets[job]!.map((address) => ({ address })),
      })),
      // the label the chart's ServiceMonitor attaches from the pod's mecqkd.io/host label
      {
        job: 'host-sae',
        targets: Object.entries(tb.secure.hostSaes).map(([h, s]) => ({
          address: hostPort(s.opsUrl),
          labels: { mec_host: h },
        })),
      },
      {
        job: 'whisk',
        targets: Object.entries(tb.whisks).map(([h, x]) => ({
          address: hostPort(x.metricsUrl),
          labels: { mec_host: h },
        })),
      },
    ];
    targets.whisk = Object.values(tb.whisks).map((x) => hostPort(x.metricsUrl));
    prom = await startPrometheus({ jobs, scrapeIntervalMs: 1000 });
    // a series first seen with its final value has no rate: drive the system only once every
    // target has been scraped, and spread repeated requests over several scrapes
    const total = jobs.reduce((n, j) => n + j.targets.length, 0);
    await eventually('every target scraped', async () => (await instant(prom, 'sum(up)')) === total, 60_000);

    // device apps: one acknowledges notifications, one answers 503 until the LCMP gives up
    const good = await new Receiver().start();
    const dead = await new Receiver().start();
    dead.answer = () => 503;
    receivers.push(good, dead);
    const base = `${w.lcmp.url}/dev_app/v1`;
    for (let i = 0; i < 3; i++) {
      expect((await call(base, 'GET', '/app_list', { token: w.tokens.ward })).status).to.equal(200);
      await sleep(SCRAPE_GAP_MS);
    }
    const ids: string[] = [];
    for (const rx of [good, dead]) {
      const r = await call(base, 'POST', '/app_contexts', {
        token: w.tokens.ward,
        body: createBody('cardio', { callbackReference: rx.url }),
      });
      expect(r.status, r.text).to.equal(201);
      ids.push(r.json.contextId);
    }
    const kme = clientKme(tb);
    for (const id of ids) {
      const ctx = await getJson<AppContext>(tb, 'appcontext', id);
      const inv = secureInvoker(tb, kme, ctx);
      for (let i = 0; i < 3; i++) {
        await inv.invoke({ x: i });
        await sleep(SCRAPE_GAP_MS);
      }
      inv.close();
    }
    // drain each context's QKD link in turn until the operator has moved it, then restore it
    for (const id of ids) {
      const from = (await getJson<AppContext>(tb, 'appcontext', id)).status!.host!;
      await tb.adjustLink(from, { storedBits: 0, enabled: false });
      try {
        await eventually(
          `${id} moved off ${from}`,
          async () => {
            const c = await getJson<AppContext>(tb, 'appcontext', id);
            return c.status?.phase === 'Placed' && c.status.host !== from;
          },
          60_000,
        );
      } finally {
        await tb.adjustLink(from, { enabled: true, storedBits: Number.MAX_SAFE_INTEGER });
      }
    }
    await eventually('a notification delivered', async () => good.received.length > 0, 60_000);
    await eventually(
      'the dead callback abandoned',
      async () => {
        const r = await fetch(
          `${prom.url}/api/v1/query?query=${encodeURIComponent('sum(mecqkd_lcmp_notifications_abandoned_total)')}`,
        );
        const body = (await r.json()) as { data: { result: unknown[] } };
        return body.data.result.length > 0;
      },
      60_000,
    );
    expect((await call(base, 'DELETE', `/app_contexts/${ids[0]}`, { token: w.tokens.ward })).status).to.equal(
      204,
    );
    // a few more scrapes so every rate() window holds two samples after the last change
    await sleep(5000);
  });

  after(async () => {
    for (const r of receivers) await r.stop();
    await prom?.stop();
    await w?.stop();
  });

  it("every component's /metrics passes promtool check metrics", async () => {
    const problems: string[] = [];
    for (const [job, addresses] of Object.entries(targets)) {
      for (const address of addresses) {
        const text = await (await fetch(`http://${address}/metrics`)).text();
        const r = await promtoolCheck(text);
        const lines = r.out
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean);
        const findings = lines.filter((l) => !deliberate(job, l));
        // a non-zero exit with nothing said is a parse failure, never deliberate
        if (findings.length > 0 || (r.code !== 0 && lines.length === 0))
          problems.push(`${job} ${address} (exit ${r.code}):\n${findings.join('\n')}`);
      }
    }
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  for (const d of DASHBOARDS) {
    it(`${d.title}: every panel's queries return data`, async () => {
      const end = Date.now() / 1000;
      const results: Series[][][] = [];
      for (const panel of d.panels) {
        const panelResults: Series[][] = [];
        for (const query of panel.queries) {
          const series = await queryRange(prom, concreteQuery(query.expr), t0, end);
          const finite = series.some((s) => s.values.some(([, v]) => Number.isFinite(Number(v))));
          expect(finite, `${d.title} / ${panel.title}: ${query.expr}`).to.equal(true);
          panelResults.push(series);
        }
        results.push(panelResults);
      }
      mkdirSync(SVG_DIR, { recursive: true });
      writeFileSync(join(SVG_DIR, `${d.uid}.svg`), await dashboardSvg(d, results, t0));
    });
  }
});
