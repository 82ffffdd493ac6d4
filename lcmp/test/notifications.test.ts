// Notifications to the device app's callbackReference (MEC 016 6.4) with the real operator moving
// contexts: what a migration announces, retries until acknowledged, the give-up condition, the SSRF
// check at delivery, system deletions; then the LCMP as processes: durable across a SIGKILL between
// migration and delivery, and two replicas delivering each notification once.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AppContext, MecHost } from '@mecqkd/crds';
import { expect } from 'chai';
import { getJson } from '../../operator/test/e2e/support.ts';
import { NOTIFIED_ANNOTATION } from '../src/notify/decide.ts';
import { violations } from './oas.ts';
import {
  CLIENTS,
  call,
  createBody,
  eventually,
  mecApp,
  Receiver,
  runLcmpProcess,
  startWorld,
  tokenFor,
  type World,
} from './support.ts';

const GIVE_UP_S = 8;

describe('Mx2 notifications (e2e)', function () {
  this.timeout(180_000);
  let w: World;
  let base: string;
  const receivers: Receiver[] = [];
  const receiver = async () => {
    const r = await new Receiver().start();
    receivers.push(r);
    return r;
  };
  const ctx = async (id: string) => getJson<AppContext>(w.tb, 'appcontext', id);

  /** Drains the QKD link of the context's host until the operator has moved it, then restores it. */
  async function migrate(id: string): Promise<AppContext> {
    const from = (await ctx(id)).status!.host!;
    await w.tb.adjustLink(from, { storedBits: 0, enabled: false });
    try {
      return await eventually(
        `${id} moved off ${from}`,
        async () => {
          const c = await ctx(id);
          return c.status?.phase === 'Placed' && c.status.host !== from && c;
        },
        60_000,
      );
    } finally {
      await w.tb.adjustLink(from, { enabled: true, storedBits: Number.MAX_SAFE_INTEGER });
    }
  }

  async function create(via: string, token: string, callbackReference?: string): Promise<string> {
    const r = await call(`${via}/dev_app/v1`, 'POST', '/app_contexts', {
      token,
      body: createBody('cardio', callbackReference ? { callbackReference } : {}),
    });
    expect(r.status, r.text).to.equal(201);
    return r.json.contextId;
  }

  before(async () => {
    // each context moves once at most: a restored link must not pull contexts back
    w = await startWorld(
      'lcmp-notify',
      [mecApp('cardio', {}, { minKeyAvailability: 0.2 })],
      { notifyGiveUp: GIVE_UP_S },
      { migrationCooldown: 600 },
    );
    base = w.lcmp.url;
  });
  after(async () => {
    for (const r of receivers) await r.stop();
    await w?.stop();
  });

  describe('one LCMP', () => {
    it('announces a migration: AddressChange with the new host QKD identity, then ContextUpdate, once each', async () => {
      const rx = await receiver();
      const id = await create(base, w.tokens.ward, rx.url);
      const moved = await migrate(id);
      await eventually('both notifications', async () => rx.received.length >= 2);
      const host = await getJson<MecHost>(w.tb, 'mechost', moved.status!.host!);
      const [address, update] = rx.received.map((r) => r.body);
      const ext = {
        vendorId: 'mecqkd',
        hostSaeId: host.spec.kme.saeId,
        hostKmeId: host.spec.kme.kmeId,
        invocationsPerKey: 1,
        expectedInvocationsPerSecond: 1,
      };
      expect(address).to.deep.equal({
        notificationType: 'AddressChangeNotification',
        contextId: id,
        appInstanceId: moved.status!.appInstanceId,
        referenceURI: moved.status!.referenceURI,
        vendorSpecificExt: ext,
      });
      expect(update).to.deep.equal({
        notificationType: 'ApplicationContextUpdateNotification',
        contextId: id,
        userAppInstanceInfo: [
          {
            appInstanceId: moved.status!.appInstanceId,
            referenceURI: moved.status!.referenceURI,
            vendorSpecificExt: ext,
          },
        ],
      });
      // by type: InlineNotification's discriminator has no const to dispatch on (an OAS defect)
      expect(violations('AddressChangeNotification', address)).to.deep.equal([]);
      expect(violations('ApplicationContextUpdateNotification', update)).to.deep.equal([]);
      const recorded = await eventually('delivery recorded', async () => {
        const c = await ctx(id);
        return c.metadata.annotations?.[NOTIFIED_ANNOTATION] !== undefined && c;
      });
      expect(recorded.metadata.annotations![NOTIFIED_ANNOTATION]).to.equal(
        moved.status!.migrations!.at(-1)!.time,
      );
      expect(rx.received).to.have.length(2);
    });

    it('retries with backoff until the device app acknowledges, then delivers once', async () => {
      // the registry is the test process's, shared with every earlier test file: count the change
      const counter = async (name: string) => {
        const text = await (await fetch(`http://127.0.0.1:${w.lcmp.health.port}/metrics`)).text();
        const m = text.match(new RegExp(`^${name}\\{type="AddressChangeNotification"\\} (\\d+)$`, 'm'));
        return Number(m?.[1] ?? 0);
      };
      const retriedBefore = await counter('mecqkd_lcmp_notifications_retried_total');
      const deliveredBefore = await counter('mecqkd_lcmp_notifications_delivered_total');
      const rx = await receiver();
      let refusals = 3;
      rx.answer = () => (refusals-- > 0 ? 503 : 204);
      const id = await create(base, w.tokens.ward, rx.url);
      await migrate(id);
      await eventually(
        'acknowledged after the refusals',
        async () => rx.of('ApplicationContextUpdateNotification', id).length === 1,
      );
      expect(rx.of('AddressChangeNotification', id)).to.have.length(1);
      expect((await counter('mecqkd_lcmp_notifications_retried_total')) - retriedBefore).to.be.at.least(3);
      expect((await counter('mecqkd_lcmp_notifications_delivered_total')) - deliveredBefore).to.be.at.least(
        1,
      );
    });

    it('gives up after the give-up time and records why in a condition', async () => {
      const rx = await receiver();
      let attempts = 0;
      rx.answer = () => {
        attempts++;
        return 500;
      };
      const id = await create(base, w.tokens.ward, rx.url);
      await migrate(id);
      const c = await eventually(
        'NotificationDelivered=False and the record',
        async () => {
          const x = await ctx(id);
          return (
            x.status?.conditions?.some((k) => k.type === 'NotificationDelivered' && k.status === 'False') &&
            x.metadata.annotations?.[NOTIFIED_ANNOTATION] !== undefined &&
            x
          );
        },
        GIVE_UP_S * 1000 + 30_000,
      );
      const cond = c.status!.conditions!.find((k) => k.type === 'NotificationDelivered')!;
      expect(cond.reason).to.equal('DeliveryAbandoned');
      expect(cond.message).to.contain('AddressChangeNotification');
      expect(attempts).to.be.greaterThan(2);
      expect(c.metadata.annotations?.[NOTIFIED_ANNOTATION]).to.equal(c.status!.migrations!.at(-1)!.time);
      const metrics = await (await fetch(`http://127.0.0.1:${w.lcmp.health.port}/metrics`)).text();
      expect(metrics).to.match(
        /mecqkd_lcmp_notifications_abandoned_total\{type="AddressChangeNotification"\} [1-9]/,
      );
    });

    it('refuses at delivery a callback written around the Mx2 check (SSRF), sending nothing', async () => {
      const rx = await receiver();
      const id = await create(base, w.tokens.ward, rx.url);
      // another writer of the CR puts the cloud metadata address there
      await w.tb.kubectl([
        'patch',
        'appcontext',
        id,
        '--type',
        'merge',
        '-p',
        JSON.stringify({ spec: { callbackReference: 'http://169.254.169.254/latest/meta-data' } }),
      ]);
      await migrate(id);
      const c = await eventually('CallbackRefused', async () => {
        const x = await ctx(id);
        return (
          x.status?.conditions?.find(
            (k) => k.type === 'NotificationDelivered' && k.reason === 'CallbackRefused',
          ) && x
        );
      });
      expect(c.status!.conditions!.find((k) => k.type === 'NotificationDelivered')!.message).to.contain(
        '169.254.169.254',
      );
      expect(rx.received).to.have.length(0);
    });

    it('announces a context the system ends, not one the client deletes', async () => {
      const rx = await receiver();
      const mine = await create(base, w.tokens.ward, rx.url);
      const ended = await create(base, w.tokens.ward, rx.url);
      expect(
        (await call(`${base}/dev_app/v1`, 'DELETE', `/app_contexts/${mine}`, { token: w.tokens.ward }))
          .status,
      ).to.equal(204);
      await w.tb.kubectl(['delete', 'appcontext', ended, '--wait=false']);
      await eventually('both CRs gone', async () => {
        const names = (await getJson<{ items: AppContext[] }>(w.tb, 'appcontexts')).items.map(
          (c) => c.metadata.name,
        );
        return !names.includes(mine) && !names.includes(ended);
      });
      expect(
        rx.received.map((r) => r.body),
        JSON.stringify({ mine, ended, got: rx.received }),
      ).to.deep.equal([{ notificationType: 'ApplicationContextDeleteNotification', contextId: ended }]);
    });
  });

  describe('locations', () => {
    const IT = { countryCode: 'IT' };
    const MILAN = { countryCode: 'IT', civicAddressElement: [{ caType: 3, caValue: 'Milano' }] };
    const locate = (hostName: string, location: object) =>
      w.tb.kubectl([
        'patch',
        'mechost',
        hostName,
        '--type',
        'merge',
        '-p',
        JSON.stringify({ spec: { location } }),
      ]);
    const put = (id: string, appLocation: object, extra: Record<string, unknown> = {}) =>
      call(`${base}/dev_app/v1`, 'PUT', `/app_contexts/${id}`, {
        token: w.tokens.ward,
        body: createBody('cardio', extra, { userAppInstanceInfo: [{ appLocation }] }),
      });
    afterEach(async () => {
      await locate('host-2', IT);
    });

    it('re-places a context whose host is outside its new appLocation and announces the move; says why when no host is there', async () => {
      await locate('host-2', { countryCode: 'FR' });
      const rx = await receiver();
      const r = await call(`${base}/dev_app/v1`, 'POST', '/app_contexts', {
        token: w.tokens.ward,
        body: createBody(
          'cardio',
          { callbackReference: rx.url },
          { userAppInstanceInfo: [{ appLocation: IT }] },
        ),
      });
      expect(r.status, r.text).to.equal(201);
      const id = r.json.contextId as string;
      expect((await ctx(id)).status?.host).to.equal('host-1');

      expect((await put(id, { countryCode: 'FR' }, { callbackReference: rx.url })).status).to.equal(204);
      const moved = await eventually('moved to the host in FR', async () => {
        const c = await ctx(id);
        return c.status?.phase === 'Placed' && c.status.host === 'host-2' && c;
      });
      expect(moved.status!.migrations!.at(-1)).to.include({
        from: 'host-1',
        to: 'host-2',
        reason: 'LocationChanged',
      });
      await eventually('the move announced', async () => rx.of('AddressChangeNotification', id).length === 1);
      expect(rx.of('AddressChangeNotification', id)[0]!.body).to.include({
        referenceURI: moved.status!.referenceURI,
      });

      expect((await put(id, { countryCode: 'DE' }, { callbackReference: rx.url })).status).to.equal(204);
      const unmet = await eventually('LocationMet=False', async () => {
        const c = await ctx(id);
        return c.status?.conditions?.find((k) => k.type === 'LocationMet' && k.status === 'False') && c;
      });
      // still served where it was, and the device app is told nothing moved
      expect(unmet.status).to.include({ phase: 'Placed', host: 'host-2' });
      expect(unmet.status!.conditions!.find((k) => k.type === 'LocationMet')!.message).to.contain('DE');
      expect(rx.of('AddressChangeNotification', id)).to.have.length(1);
    });

    it('tells a context with appLocationUpdates of a requested location that became available, once', async () => {
      const rx = await receiver();
      const r = await call(`${base}/dev_app/v1`, 'POST', '/app_contexts', {
        token: w.tokens.ward,
        body: createBody(
          'cardio',
          { callbackReference: rx.url, appLocationUpdates: true },
          { userAppInstanceInfo: [{ appLocation: IT }] },
        ),
      });
      expect(r.status, r.text).to.equal(201);
      const id = r.json.contextId as string;
      await locate('host-2', MILAN);
      await eventually(
        'ApplicationLocationAvailabilityNotification',
        async () => rx.of('ApplicationLocationAvailabilityNotification', id).length === 1,
      );
      const body = rx.of('ApplicationLocationAvailabilityNotification', id)[0]!.body;
      expect(violations('ApplicationLocationAvailabilityNotification', body)).to.deep.equal([]);
      expect(body).to.deep.equal({
        notificationType: 'ApplicationLocationAvailabilityNotification',
        contextId: id,
        availableLocations: [{ appLocation: IT }, { appLocation: MILAN }],
      });
      await eventually('recorded', async () =>
        (await ctx(id)).metadata.annotations?.['mecqkd.io/lcmp-known-locations']?.includes('Milano'),
      );
      // the host's next status pass looks at the context again: nothing new, nothing more
      const rv = (await getJson<MecHost>(w.tb, 'mechost', 'host-2')).metadata.resourceVersion;
      await eventually(
        'a later host status pass',
        async () => (await getJson<MecHost>(w.tb, 'mechost', 'host-2')).metadata.resourceVersion !== rv,
      );
      expect(rx.of('ApplicationLocationAvailabilityNotification', id)).to.have.length(1);
    });
  });

  describe('LCMP processes', () => {
    before(async () => {
      // only the processes compete for the notifier Lease from here on
      await w.lcmp.stop();
    });

    // this context's deliveries only: a new leader also delivers what earlier tests left owed
    const deliveredBy = (logFile: string, id: string) =>
      readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"Delivered notification"') && l.includes(`/${id}"`)).length;

    it('delivers once though the LCMP is SIGKILLed between the migration and the delivery', async () => {
      const first = await runLcmpProcess(w.tb, 'lcmp-a');
      const token = await tokenFor(first.url, CLIENTS.ward);
      const rx = await receiver();
      let attempts = 0;
      let accept = false;
      rx.answer = () => {
        attempts++;
        return accept ? 204 : 503;
      };
      const id = await create(first.url, token, rx.url);
      await migrate(id);
      await eventually('lcmp-a tried and failed', async () => attempts > 0);
      await first.proc.stop('SIGKILL');
      accept = true;
      const second = await runLcmpProcess(w.tb, 'lcmp-b');
      await eventually('delivered after the restart', async () => rx.received.length >= 2, 60_000);
      await eventually(
        'delivery recorded',
        async () => (await ctx(id)).metadata.annotations?.[NOTIFIED_ANNOTATION],
      );
      expect(rx.of('AddressChangeNotification', id)).to.have.length(1);
      expect(rx.of('ApplicationContextUpdateNotification', id)).to.have.length(1);
      expect(deliveredBy(first.proc.logFile, id)).to.equal(0);
      expect(deliveredBy(second.proc.logFile, id)).to.equal(2);
      await second.proc.stop();
    });

    it('two replicas serve Mx2 and deliver each notification once', async () => {
      const a = await runLcmpProcess(w.tb, 'lcmp-c');
      const b = await runLcmpProcess(w.tb, 'lcmp-d');
      const rx = await receiver();
      const token = await tokenFor(b.url, CLIENTS.ward);
      const id = await create(a.url, token);
      const put = await call(`${b.url}/dev_app/v1`, 'PUT', `/app_contexts/${id}`, {
        token,
        body: createBody('cardio', { callbackReference: rx.url }),
      });
      expect(put.status, put.text).to.equal(204);
      await eventually('callback set', async () => (await ctx(id)).spec.callbackReference === rx.url);
      await migrate(id);
      await eventually('recorded', async () => (await ctx(id)).metadata.annotations?.[NOTIFIED_ANNOTATION]);
      expect(rx.of('AddressChangeNotification', id)).to.have.length(1);
      expect(rx.of('ApplicationContextUpdateNotification', id)).to.have.length(1);
      expect(deliveredBy(a.proc.logFile, id) + deliveredBy(b.proc.logFile, id)).to.equal(2);
      expect([deliveredBy(a.proc.logFile, id), deliveredBy(b.proc.logFile, id)]).to.include(0);

      // the logs of both never carry a token or a client secret
      for (const p of [a, b]) {
        const log = readFileSync(p.proc.logFile, 'utf8');
        expect(log).to.not.contain(token);
        expect(log).to.not.contain(token.split('.')[2]);
        expect(log).to.not.contain(CLIENTS.ward.secret);
      }
      await a.proc.stop();
      await b.proc.stop();
    });

    it('keeps serving Mx2 when it loses the notifier Lease, and leads again once the Lease is free', async () => {
      const lease = 'mecqkd-lcmp-lease-loss';
      const p = await runLcmpProcess(w.tb, 'lcmp-f', { leaseName: lease });
      let exitCode: number | null | undefined;
      void p.proc.exited.then((c) => {
        exitCode = c;
      });
      const holder = async () =>
        JSON.parse(
          (await w.tb.cp.kubectl(['get', 'lease', lease, '-n', w.tb.namespace, '-o', 'json'])).stdout || '{}',
        )?.spec?.holderIdentity as string | undefined;
      await eventually('lcmp-f leads', async () => (await holder()) === 'lcmp-f');
      const stolen = JSON.stringify({
        spec: {
          holderIdentity: 'intruder',
          leaseDurationSeconds: 3600,
          renewTime: new Date().toISOString().replace('Z', '000Z'),
        },
      });
      const patch = await w.tb.cp.kubectl([
        'patch',
        'lease',
        lease,
        '-n',
        w.tb.namespace,
        '--type',
        'merge',
        '-p',
        stolen,
      ]);
      expect(patch.code, patch.stderr).to.equal(0);
      await eventually(
        'lcmp-f noticed',
        async () =>
          exitCode !== undefined ||
          readFileSync(p.proc.logFile, 'utf8').includes('"Lost the notifier Lease; campaigning again"'),
      );
      expect(exitCode, readFileSync(p.proc.logFile, 'utf8').slice(-2000)).to.equal(undefined);
      const token = await tokenFor(p.url, CLIENTS.ward);
      const r = await call(`${p.url}/dev_app/v1`, 'GET', '/app_list', { token });
      expect(r.status, r.text).to.equal(200);
      await w.tb.cp.kubectl(['delete', 'lease', lease, '-n', w.tb.namespace]);
      await eventually('lcmp-f leads again', async () => (await holder()) === 'lcmp-f', 30_000);
      expect(readFileSync(p.proc.logFile, 'utf8')).to.not.contain('LeadershipEndedError:');
      await p.proc.stop();
    });

    it('`lcmp token` gets a token a lab can use', async () => {
      const p = await runLcmpProcess(w.tb, 'lcmp-e');
      const file = join(w.tb.dir, 'ward-secret');
      writeFileSync(file, CLIENTS.ward.secret, { mode: 0o600 });
      const bin = join(import.meta.dirname, '..', 'bin', 'lcmp.mjs');
      const { stdout } = await promisify(execFile)(process.execPath, [
        bin,
        'token',
        '--url',
        p.url,
        '--client-id',
        CLIENTS.ward.clientId,
        '--client-secret-file',
        file,
      ]);
      const r = await call(`${p.url}/dev_app/v1`, 'GET', '/app_list', { token: stdout.trim() });
      expect(r.status).to.equal(200);
      await p.proc.stop();
    });
  });
});
