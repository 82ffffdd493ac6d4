// The ward tablet console in a real headless browser (Debian's chromium through puppeteer-core)
// against the real system: both assessments over Mx2 and sealed invocations, the follow-the-sequence
// view, a migration arriving in the live view, axe-core, no console errors, tablet screenshots.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'puppeteer-core';
import { eventually } from '../../operator/test/e2e/support.ts';
import type { Assessment } from '../src/console/core.ts';
import { type RunningWardConsole, startWardConsole } from '../src/console/start.ts';
import { cardioArgs, covidArgs, type Patient } from '../src/patients.ts';
import { axeViolations, launchChromium, openPage, screenshot, TABLET, type WatchedPage } from './browser.ts';
import { TABLET as CLIENT, type ConsoleWorld, overload, startConsoleWorld } from './console-world.ts';

const ACTIONS = join(import.meta.dirname, '..', 'actions');
const model = (file: string) =>
  new Function(`${readFileSync(join(ACTIONS, file), 'utf8')}; return main;`)() as (
    p: Record<string, unknown>,
  ) => Record<string, unknown>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const text = (page: Page, sel: string) => page.$eval(sel, (e) => (e as { textContent: string }).textContent);
/** The result panel's facts, by their row heading. */
const facts = (page: Page) =>
  page.$$eval('#result-facts tr', (rows) =>
    Object.fromEntries(
      rows.map((r) =>
        Array.from((r as { cells: ArrayLike<{ textContent: string }> }).cells, (c) => c.textContent),
      ),
    ),
  );

describe('ward tablet console (chromium, real system)', function () {
  this.timeout(240_000);
  let world: ConsoleWorld;
  let con: RunningWardConsole;
  let browser: Browser;
  let tab: WatchedPage;
  let page: Page;
  const pages: WatchedPage[] = [];

  before(async () => {
    world = await startConsoleWorld('console');
    con = await startWardConsole({
      lcmpUrl: world.lcmpUrl,
      clientId: CLIENT.clientId,
      clientSecret: CLIENT.secret,
      devAppId: CLIENT.devAppIds,
      clientSae: { ...world.tb.clientSae, kmeUrl: world.tb.clientSae.url },
      seed: 11,
    });
    browser = await launchChromium();
    tab = await openPage(browser, con.url, TABLET.landscape);
    pages.push(tab);
    page = tab.page;
  });
  after(async () => {
    await browser?.close();
    await con?.stop();
    await world?.stop();
  });

  const selected = async (): Promise<{ ward: string; id: string; record: Patient }> => {
    const [ward, id] = await page.evaluate(() => {
      // biome-ignore lint/suspicious/noExplicitAny: the page's DOM
      const d = (globalThis as any).document;
      return [d.querySelector('#ward').value, d.querySelector('#patient-id').value] as [string, string];
    });
    const wards = (await (await fetch(`${con.url}api/wards`)).json()) as {
      id: string;
      patients: { id: string; record: Patient }[];
    }[];
    return { ward, id, record: wards.find((w) => w.id === ward)!.patients.find((p) => p.id === id)!.record };
  };

  async function runAssessment(button: string): Promise<Record<string, string>> {
    const before = await page.$eval('#result', (e) => (e as { textContent: string }).textContent);
    await page.click(button);
    await page.waitForFunction(
      (prev) => {
        // biome-ignore lint/suspicious/noExplicitAny: the page's DOM
        const r = (globalThis as any).document.querySelector('#result');
        return r.getAttribute('aria-busy') === 'false' && r.textContent !== prev && r.textContent !== '';
      },
      { timeout: 60_000 },
      before,
    );
    const err = await page.$('#result .error');
    if (err) throw new Error(await text(page, '#result .error'));
    return facts(page);
  }

  const liveRows = () =>
    page.$$eval('#contexts tbody tr', (rows) =>
      rows.map((r) =>
        Array.from((r as { cells: ArrayLike<{ textContent: string }> }).cells, (c) => c.textContent),
      ),
    );

  it('shows the wards and their patients, connects the live view, and passes axe-core', async () => {
    await page.waitForSelector('#patient-id option');
    await page.waitForFunction(
      // biome-ignore lint/suspicious/noExplicitAny: the page's DOM
      () => (globalThis as any).document.querySelector('#live-state').textContent.includes('connected'),
    );
    const wards = await page.$$eval('#ward option', (o) =>
      o.map((x) => (x as { textContent: string }).textContent),
    );
    expect(wards).to.deep.equal(['Cardiology', 'Internal medicine', 'COVID-19 ward', 'Intensive care']);
    expect(await page.$$('#patient-data tbody tr')).to.have.length(14);
    const serious = (await axeViolations(page)).filter(
      (v) => v.impact === 'serious' || v.impact === 'critical',
    );
    expect(serious, JSON.stringify(serious, null, 1)).to.deep.equal([]);
  });

  it('the cardiovascular assessment: Framingham result, host, key ID and sequence, the twelve steps', async () => {
    const patient = await selected();
    const shown = await runAssessment('#run-cardio');
    const expected = model('cardio-risk.js')(cardioArgs(patient.record)) as { tenYearRisk: number };
    expect(await text(page, '#outcome')).to.equal(
      `${(expected.tenYearRisk * 100).toFixed(1)} % ten-year cardiovascular risk`,
    );
    expect(shown['Served by']).to.match(/^host-[12] \(host SAE SAE_HOST_[12]\)$/);
    expect(shown['QKD key ID']).to.match(UUID);
    expect(shown['Invocation sequence number']).to.equal('0');
    expect(shown.Patient).to.equal(`${patient.id} (${patient.ward})`);
    const steps = await page.$$eval('#steps li', (li) =>
      li.map((x) => (x as { textContent: string }).textContent),
    );
    expect(steps).to.have.length(12);
    expect(steps[6]).to.match(/^7Step 7: Invoke.*\d+\.\d ms$/);
    // the host side's steps as its wrapper reports them
    for (const [i, name] of ['Key from host KME', 'Decrypt', 'Run', 'Encrypt'].entries())
      expect(steps[7 + i]).to.match(new RegExp(`^${8 + i}Step ${8 + i}: ${name}.*\\d+\\.\\d ms$`));
    const rows = await liveRows();
    expect(rows.map((r) => r[0])).to.deep.equal(['cardio-risk']);
    expect(rows[0]![2]).to.contain(shown['Served by']!.split(' ')[0]!);
  });

  it('the COVID-19 assessment: ISARIC 4C score, one key serving consecutive invocations', async () => {
    const patient = await selected();
    const first = await runAssessment('#run-covid');
    const expected = model('covid-risk.js')(covidArgs(patient.record)) as {
      score: number;
      riskGroup: string;
    };
    expect(await text(page, '#outcome')).to.contain(`4C score ${expected.score}: ${expected.riskGroup} risk`);
    // covid-risk's hostSelector: the hospital's site, which both hosts are in
    expect(first['Served by']).to.match(/^host-[12] \(host SAE SAE_HOST_[12]\)$/);
    expect(first['Invocation sequence number']).to.equal('0');
    const second = await runAssessment('#run-covid');
    expect(second['QKD key ID']).to.equal(first['QKD key ID']);
    expect(second['Invocation sequence number']).to.equal('1');
    expect((await liveRows()).map((r) => r[0]).sort()).to.deep.equal(['cardio-risk', 'covid-risk']);
  });

  it('assesses a patient generated on the tablet', async () => {
    const options = (await page.$$('#patient-id option')).length;
    await page.click('#new-patient');
    await page.waitForFunction(
      // biome-ignore lint/suspicious/noExplicitAny: the page's DOM
      (n) => (globalThis as any).document.querySelectorAll('#patient-id option').length === n + 1,
      {},
      options,
    );
    const patient = await selected();
    const shown = await runAssessment('#run-cardio');
    expect(shown.Patient).to.equal(`${patient.id} (${patient.ward})`);
    const expected = model('cardio-risk.js')(cardioArgs(patient.record)) as { tenYearRisk: number };
    expect(await text(page, '#outcome')).to.contain((expected.tenYearRisk * 100).toFixed(1));
  });

  it('a migration: the notification arrives in the live view and the next assessment runs on the new host', async () => {
    const before = (await (await fetch(`${con.url}api/assessments`)).json()) as Assessment[];
    const from = before.find((a) => a.model === 'cardio')!.host;
    const to = from === 'host-1' ? 'host-2' : 'host-1';
    await overload(world.tb, from, 40_000);
    await page.waitForFunction(
      "document.querySelector('#notifications').textContent.includes('AddressChange')",
      {
        timeout: 90_000,
      },
    );
    const notes = await page.$$eval('#notifications li', (li) =>
      li.map((x) => (x as { textContent: string }).textContent),
    );
    expect(notes.join('\n')).to.match(new RegExp(`AddressChangeNotification for cardio-risk .*→ ${to}`));
    await eventually('the live view shows the new host', async () =>
      (await liveRows()).some((r) => r[0] === 'cardio-risk' && r[2]!.startsWith(to)),
    );
    const shown = await runAssessment('#run-cardio');
    expect(shown['Served by']).to.equal(`${to} (host SAE SAE_${to.toUpperCase().replace('-', '_')})`);
    await screenshot(page, 'console-landscape');
    const portrait = await openPage(browser, con.url, TABLET.portrait);
    pages.push(portrait);
    await portrait.page.waitForSelector('#notifications li');
    await portrait.page.waitForSelector('#steps li');
    // newest first, also when the stream replays what came before the page opened
    const replayed = await portrait.page.$$eval('#notifications li', (li) =>
      li.map((x) => (x as { textContent: string }).textContent),
    );
    expect(replayed).to.deep.equal(
      await page.$$eval('#notifications li', (li) =>
        li.map((x) => (x as { textContent: string }).textContent),
      ),
    );
    await screenshot(portrait.page, 'console-portrait');
    const serious = (await axeViolations(page)).filter(
      (v) => v.impact === 'serious' || v.impact === 'critical',
    );
    expect(serious, JSON.stringify(serious, null, 1)).to.deep.equal([]);
  });

  it('refuses other origins, other Host names and bad input with problem details', async () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${con.url}api/assessments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    const foreign = await post('{}', { origin: 'http://evil.example' });
    expect(foreign.status).to.equal(403);
    expect(foreign.headers.get('content-type')).to.equal('application/problem+json');
    const bad = await post(JSON.stringify({ model: 'flu', ward: 'ward-7', patientId: 'x' }));
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { detail: string }).detail).to.match(/^model: /);
    const missing = await post(JSON.stringify({ model: 'cardio', ward: 'ward-7', patientId: 'nobody' }));
    expect(missing.status).to.equal(404);
    const plain = await post('model=cardio', { 'content-type': 'text/plain' });
    expect(plain.status).to.equal(415);
    // a name that resolves here by DNS rebinding: fetch cannot set Host, node:http can
    const rebound = await new Promise<number>((resolve, reject) =>
      request(`${con.url}api/wards`, { headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end(),
    );
    expect(rebound).to.equal(421);
  });

  it('logged no console error, exception or failed request in any page', () => {
    expect(pages.flatMap((p) => p.errors)).to.deep.equal([]);
  });
});
