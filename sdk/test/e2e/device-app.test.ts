// The device-app side end to end: the SDK's Mx2 client against the real LCMP over HTTPS (tokens from
// its client-credentials endpoint), contexts placed by the real operator on whisk-sim, secure
// invocations with real kme-sim keys over mutual TLS, and a migration in the middle of a stream.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@mecqkd/common/ports';
import type { AppContext } from '@mecqkd/crds';
import type { Qkd014Client } from '@mecqkd/kme-sim/client';
import { saeOf } from '@mecqkd/localenv/mec-testbed';
import { invocationUrl } from '@mecqkd/operator/openwhisk/action';
import { expect } from 'chai';
import { eventually, getJson } from '../../../operator/test/e2e/support.ts';
import { createHttpClient, type HttpClient } from '../../src/http.ts';
import { createClientMetrics } from '../../src/metrics.ts';
import { createMx2Client, type Mx2Client, Mx2Error } from '../../src/mx2-client.ts';
import {
  type InstanceTarget,
  NotExecuted,
  openOffloadSession,
  type SessionOutcome,
} from '../../src/offload-session.ts';
import { clientCredentials, staticToken } from '../../src/token.ts';
import { type CliResult, cliEnv, mecqkd, mecqkdStream } from './cli.ts';
import {
  CLIENTS,
  clientKme,
  mecApp,
  overload,
  pem,
  SQUARE,
  startWorld,
  successfulActivations,
  type World,
  whisk,
} from './world.ts';

const SQUARE_APP = { appName: 'square', appProvider: 'hospital-it', appDVersion: '1' };
const hostOf = (t: InstanceTarget) => t.appInstanceId.split('/')[0]!;
const actionOf = (t: InstanceTarget) => t.appInstanceId.split('/')[1]!;

describe('sdk device app (e2e: LCMP over HTTPS → operator → whisk-sim, kme-sim over mTLS)', function () {
  this.timeout(300_000);
  let w: World;
  let http: HttpClient;
  let mx2: Mx2Client;
  let kme: Qkd014Client;

  before(async () => {
    w = await startWorld('sdk-e2e', [mecApp('square', SQUARE, 10), mecApp('cube', SQUARE, 1)]);
    http = createHttpClient({ ca: pem(w.caFile) });
    const ward = CLIENTS.ward;
    mx2 = createMx2Client({
      url: w.lcmp.url,
      http,
      token: clientCredentials(
        { tokenUrl: `${w.lcmp.url}/oauth2/token`, clientId: ward.clientId, clientSecret: ward.secret },
        http.fetch,
      ),
    });
    kme = clientKme(w.tb);
  });
  after(async () => {
    kme?.close();
    await http?.close();
    await w?.stop();
  });

  it('lists apps with filters, over HTTPS verified against the given CA only', async () => {
    expect(w.lcmp.url).to.match(/^https:/);
    const all = await mx2.listApps();
    expect(all.map((a) => a.appInfo.appName)).to.deep.equal(['cube', 'square']);
    expect(all[1]!.appInfo).to.include({ appDId: 'did-square', appProvider: 'hospital-it' });
    expect((await mx2.listApps({ appName: ['square'] })).map((a) => a.appInfo.appName)).to.deep.equal([
      'square',
    ]);
    expect(await mx2.listApps({ appName: ['square'], appProvider: ['nobody'] })).to.deep.equal([]);
    // the system CAs do not know the LCMP's: the certificate is checked, not waved through
    const unverified = createMx2Client({ url: w.lcmp.url, token: staticToken('x') });
    const err = await unverified.listApps().catch((e: unknown) => e);
    await unverified.close();
    expect(String((err as Error).cause ?? err)).to.match(/certificate|self-signed|unable to verify/i);
  });

  it('surfaces refusals as typed ProblemDetails', async () => {
    const denied = await mx2
      .createContext({
        associateDevAppId: 'ward-7',
        appInfo: { ...SQUARE_APP, appName: 'nope', userAppInstanceInfo: [{}] },
      })
      .catch((e: unknown) => e);
    expect(denied).to.be.instanceOf(Mx2Error);
    expect(denied).to.include({ status: 403, title: 'Forbidden' });
    expect((denied as Mx2Error).detail).to.contain('not in the application list');
    const missing = await mx2.deleteContext('0'.repeat(32)).catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(Mx2Error).and.include({ status: 404 });
    // a refused token is replaced once: the call goes through with the provider's next one
    const real = clientCredentials(
      {
        tokenUrl: `${w.lcmp.url}/oauth2/token`,
        clientId: CLIENTS.ward.clientId,
        clientSecret: CLIENTS.ward.secret,
      },
      http.fetch,
    );
    let stale = true;
    const given: string[] = [];
    const rotating = createMx2Client({
      url: w.lcmp.url,
      http,
      token: {
        token: async () => {
          const t = stale ? 'expired-token' : await real.token();
          given.push(t === 'expired-token' ? t : 'fresh');
          return t;
        },
        invalidate: () => {
          stale = false;
        },
      },
    });
    expect(await rotating.listApps({ appName: ['square'] })).to.have.length(1);
    expect(given).to.deep.equal(['expired-token', 'fresh']);
    const badToken = createMx2Client({ url: w.lcmp.url, http, token: staticToken('not-a-token') });
    expect(await badToken.listApps().catch((e: unknown) => e))
      .to.be.instanceOf(Mx2Error)
      .and.include({ status: 401 });
  });

  it('creates a context with the host QKD identity, answers location availability, deletes it', async () => {
    const { context, location } = await mx2.createContext({
      associateDevAppId: 'ward-7',
      appInfo: { ...SQUARE_APP, userAppInstanceInfo: [{}] },
    });
    expect(location).to.equal(`${w.lcmp.url}/dev_app/v1/app_contexts/${context.contextId}`);
    const instance = context.appInfo.userAppInstanceInfo[0]!;
    const host = instance.appInstanceId.split('/')[0]!;
    expect(instance.referenceURI).to.match(/\/api\/v1\/web\/.+\.json$/);
    expect(instance.vendorSpecificExt).to.include({ hostSaeId: saeOf(host), invocationsPerKey: 10 });
    const loc = await mx2.locationAvailability({ associateDevAppId: 'ward-7', appInfo: SQUARE_APP });
    expect(loc.appInfo.availableLocations).to.deep.equal([{ appLocation: { countryCode: 'IT' } }]);
    await mx2.deleteContext(context.contextId);
    expect(await mx2.deleteContext(context.contextId).catch((e: unknown) => e)).to.include({ status: 404 });
  });

  it('keys every N invocations as the LCMP says, without being told N', async () => {
    const session = await openOffloadSession({
      mx2,
      app: SQUARE_APP,
      associateDevAppId: 'ward-7',
      kme,
      clientSaeId: w.tb.clientSae.id,
      http,
      spares: 0,
    });
    try {
      expect(session.target().invocationsPerKey).to.equal(10);
      for (let i = 0; i < 20; i++) expect((await session.invoke({ i })).result).to.include({ square: i * i });
      expect(session.stats().keysFetched).to.equal(2);
    } finally {
      await session.close();
    }
  });

  it('an invocation the host does not serve ends NotExecuted when no new address comes, and never ran', async () => {
    const session = await openOffloadSession({
      mx2,
      app: SQUARE_APP,
      associateDevAppId: 'ward-7',
      kme,
      clientSaeId: w.tb.clientSae.id,
      invocationsPerKey: 10,
      http,
      migrationWaitMs: 1500,
    });
    try {
      const t = session.target();
      const prior = await successfulActivations(w.tb, hostOf(t), actionOf(t));
      expect((await session.invoke({ i: 3 })).result).to.deep.equal({ i: 3, square: 9 });
      // the host records an activation once it has answered: wait for this one before counting
      const before = await eventually('the answered call recorded', async () => {
        const n = await successfulActivations(w.tb, hostOf(t), actionOf(t));
        return n > prior ? n : undefined;
      });
      // as after a move: the action is gone from the host the session still knows
      await whisk(w.tb, hostOf(t)).actions.delete({ name: actionOf(t) });
      const err = await session.invoke({ i: 4 }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(NotExecuted);
      expect((err as NotExecuted).attempts.map((a) => a.failure)).to.deep.equal(['not-here']);
      expect(await successfulActivations(w.tb, hostOf(t), actionOf(t))).to.equal(before);
    } finally {
      await session.close();
    }
  });

  it('an invocation the old host refuses waits for the new address and runs there once', async () => {
    const session = await openOffloadSession({
      mx2,
      app: SQUARE_APP,
      associateDevAppId: 'ward-7',
      kme,
      clientSaeId: w.tb.clientSae.id,
      invocationsPerKey: 10,
      spares: 0,
      http,
      migrationWaitMs: 120_000,
    });
    const t = session.target();
    const from = hostOf(t);
    const ranBefore = await Promise.all(
      Object.keys(w.tb.whisks).map((h) => successfulActivations(w.tb, h, actionOf(t))),
    );
    try {
      expect((await session.invoke({ i: 5 })).instance.generation).to.equal(0);
      // the old host refuses (its action is gone); only then does the system move the context
      // (a drained QKD link: KeysLow), and the notification brings the new address
      session.once('retrying', () => void w.tb.adjustLink(from, { storedBits: 0, enabled: false }));
      await whisk(w.tb, from).actions.delete({ name: actionOf(t) });
      const o = await session.invoke({ i: 6 });
      expect(o.result).to.deep.equal({ i: 6, square: 36 });
      expect(o.attempts.map((a) => a.failure)).to.deep.equal(['not-here', undefined]);
      expect(hostOf(o.instance)).to.not.equal(from);
      expect(o.instance.hostSaeId).to.equal(saeOf(hostOf(o.instance)));
      const ranAfter = await Promise.all(
        Object.keys(w.tb.whisks).map((h) => successfulActivations(w.tb, h, actionOf(t))),
      );
      const delta = Object.fromEntries(
        Object.keys(w.tb.whisks).map((h, i) => [h, ranAfter[i]! - ranBefore[i]!]),
      );
      expect(delta).to.deep.equal({ [from]: 1, [hostOf(o.instance)]: 1 });
    } finally {
      await w.tb.adjustLink(from, { enabled: true, storedBits: Number.MAX_SAFE_INTEGER });
      await session.close();
    }
  });

  it('a stream of 200 invocations crosses a migration: each answered once, right, on both hosts', async () => {
    const metrics = createClientMetrics();
    const session = await openOffloadSession({
      mx2,
      app: SQUARE_APP,
      associateDevAppId: 'ward-7',
      kme,
      clientSaeId: w.tb.clientSae.id,
      invocationsPerKey: 10,
      spares: 2,
      http,
      metrics,
      migrationWaitMs: 120_000,
    });
    const first = session.target();
    const hosts = Object.keys(w.tb.whisks);
    const ranOnHosts = async () => {
      let n = 0;
      for (const h of hosts) n += await successfulActivations(w.tb, h, actionOf(first));
      return n;
    };
    // the action is the app's, shared with the earlier tests' contexts: count from here
    const ranBefore = await ranOnHosts();
    const moved = new Promise<InstanceTarget>((resolve) => session.once('migrated', (m) => resolve(m.to)));
    let migrated = false;
    void moved.then(() => {
      migrated = true;
    });
    const outcomes = new Map<number, SessionOutcome>();
    const answers: number[] = [];
    let next = 0;
    let overloaded: Promise<void> | undefined;
    const worker = async () => {
      for (let i = next++; i < 200; i = next++) {
        // the second half waits for the move, so that it happens in the middle of the stream
        if (i >= 120 && !migrated) await moved;
        const o = await session.invoke({ i, tag: `t${i}` });
        answers.push(i);
        outcomes.set(i, o);
        if (outcomes.size === 50) overloaded ??= overload(w.tb, hostOf(first), 8, 20_000);
      }
    };
    try {
      await Promise.all([worker(), worker(), worker(), worker()]);
      await overloaded;
      const to = await moved;
      expect(hostOf(to)).to.not.equal(hostOf(first));
      expect(to.hostSaeId).to.equal(saeOf(hostOf(to)));
      expect(answers).to.have.length(200);
      expect(new Set(answers).size).to.equal(200);
      for (const [i, o] of outcomes)
        expect(o.result, `invocation ${i}`).to.deep.equal({ i, square: i * i, tag: `t${i}` });
      const perHost: Record<string, number> = {};
      for (const o of outcomes.values()) perHost[hostOf(o.instance)] = (perHost[hostOf(o.instance)] ?? 0) + 1;
      const ctx = await getJson<AppContext>(w.tb, 'appcontext', session.contextId);
      expect(ctx.status?.migrations?.map((m) => m.reason)).to.deep.equal(['HostOverloaded']);
      expect(perHost[hostOf(first)], 'before the move').to.be.at.least(50);
      expect(perHost[hostOf(to)], 'after the move').to.be.greaterThan(0);
      // each ran exactly once: the hosts' own records of sealed answers add up to the stream
      expect((await ranOnHosts()) - ranBefore).to.equal(200);
      const retried = [...outcomes.values()].filter((o) => o.attempts.length > 1).length;
      const stats = session.stats();
      expect(stats.migrations).to.equal(1);
      expect(stats.invocations).to.equal(200 + retried);
      const text = await metrics.registry.metrics();
      expect(text).to.match(/mecqkd_client_keys_fetched_total \d+/);
      console.log(
        `      per host ${JSON.stringify(perHost)}, retried after a refusal ${retried}, keys ${stats.keysFetched}`,
      );
    } finally {
      await session.close();
    }
  });

  describe('mecqkd CLI (the real binary against the running system)', () => {
    let env: NodeJS.ProcessEnv;
    const json = (r: CliResult) => JSON.parse(r.stdout);
    const ok = (r: CliResult) => {
      expect(r.code, `exit code; stderr: ${r.stderr}`).to.equal(0);
      return r;
    };
    before(() => {
      env = cliEnv(w, { MECQKD_STATE: join(w.tb.dir, 'cli-state.json') });
    });

    it('--help and a usage mistake from the binary (every command: test/cli.test.ts)', async () => {
      const general = ok(await mecqkd(['--help'], env));
      expect(general.stdout).to.contain('contexts create').and.contain('Exit codes:');
      expect(ok(await mecqkd(['contexts', 'create', '--help'], env)).stdout).to.match(
        /^Usage: mecqkd contexts create/,
      );
      const unknown = await mecqkd(['frobnicate'], env);
      expect(unknown.code).to.equal(1);
      expect(unknown.stderr).to.contain('unknown command "frobnicate"');
    });

    it('apps: a table by default, MEC 016 JSON with --output json', async () => {
      const table = ok(await mecqkd(['apps'], env))
        .stdout.trim()
        .split('\n');
      expect(table[0]).to.match(/^NAME\s+PROVIDER\s+VERSION\s+APPDVERSION\s+APPDID\s+DESCRIPTION$/);
      expect(table.slice(1).map((l) => l.split(/\s+/)[0])).to.deep.equal(['cube', 'square']);
      const list = json(ok(await mecqkd(['apps', '--name', 'square', '--output', 'json'], env)));
      expect(list.appList.map((a: { appInfo: { appName: string } }) => a.appInfo.appName)).to.deep.equal([
        'square',
      ]);
    });

    it('contexts create, list, invoke (args from a flag, a file and stdin), delete', async () => {
      const created = json(
        ok(
          await mecqkd(
            ['contexts', 'create', '--app', 'square', '--invocations-per-key', '10', '-o', 'json'],
            env,
          ),
        ),
      );
      const id = created.contextId as string;
      expect(id).to.match(/^[0-9a-f]{32}$/);
      expect(created.hostSaeId).to.match(/^SAE_HOST_[12]$/);
      const listed = ok(await mecqkd(['contexts', 'list'], env)).stdout;
      expect(listed).to.contain(id).and.contain('square');
      const viaFlag = ok(await mecqkd(['invoke', id, '--args', '{"i":7}'], env));
      expect(JSON.parse(viaFlag.stdout)).to.deep.equal({ i: 7, square: 49 });
      const file = join(w.tb.dir, 'args.json');
      writeFileSync(file, '{"i":8,"tag":"from-file"}');
      const viaFile = json(ok(await mecqkd(['invoke', id, '--args-file', file, '--output', 'json'], env)));
      expect(viaFile).to.deep.include({
        result: { i: 8, square: 64, tag: 'from-file' },
        contextId: id,
        seq: 0,
      });
      expect(viaFile.keyId).to.match(/^[0-9a-f-]{36}$/);
      expect(viaFile.timings.total).to.be.a('number');
      const viaStdin = ok(await mecqkd(['invoke', id], env, '{"i":9}'));
      expect(JSON.parse(viaStdin.stdout)).to.deep.equal({ i: 9, square: 81 });
      const notJson = await mecqkd(['invoke', id], env, '{"i":');
      expect(notJson.code).to.equal(1);
      expect(notJson.stderr).to.contain('not JSON');
      ok(await mecqkd(['contexts', 'delete', id], env));
      expect(ok(await mecqkd(['contexts', 'list', '-o', 'json'], env)).stdout).to.not.contain(id);
      // the LCMP no longer knows it: refused, exit 2, the ProblemDetails on stderr
      const again = await mecqkd(['contexts', 'delete', id, '-o', 'json'], env);
      expect(again.code).to.equal(2);
      expect(JSON.parse(again.stderr).error).to.include({ code: 2, status: 404, title: 'Not Found' });
    });

    it('invoke --app opens a context for one call and deletes it after', async () => {
      const r = json(
        ok(await mecqkd(['invoke', '--app', 'square', '--args', '{"i":12}', '-o', 'json'], env)),
      );
      expect(r.result).to.deep.equal({ i: 12, square: 144 });
      const gone = await mx2.deleteContext(r.contextId).catch((e: unknown) => e);
      expect(gone).to.be.instanceOf(Mx2Error).and.include({ status: 404 });
    });

    it('watch points a context at its receiver and prints the notification when the system ends it', async () => {
      const created = json(ok(await mecqkd(['contexts', 'create', '--app', 'cube', '-o', 'json'], env)));
      const id = created.contextId as string;
      const watch = mecqkdStream(['watch', '--context', id, '--count', '1', '--output', 'json'], env);
      const listening = JSON.parse(await watch.line((l) => l.includes('"listening"')));
      expect(listening.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/mx2\/notifications\/[0-9a-f]{32}$/);
      // the MEC system (not the client) removes the context: the LCMP announces it to the new callback
      await w.tb.kubectl(['delete', 'appcontext', id, '--wait=false']);
      const note = JSON.parse(await watch.line((l) => l.includes('"notification"')));
      expect(note.notification).to.deep.equal({
        notificationType: 'ApplicationContextDeleteNotification',
        contextId: id,
      });
      expect((await watch.ended).code).to.equal(0);
      expect(ok(await mecqkd(['contexts', 'list', '-o', 'json'], env)).stdout).to.not.contain(id);
    });

    it('watch follows a migration (AddressChangeNotification) and the next invoke runs on the new host', async () => {
      const created = json(ok(await mecqkd(['contexts', 'create', '--app', 'square', '-o', 'json'], env)));
      const id = created.contextId as string;
      const [from, action] = (created.appInstanceId as string).split('/') as [string, string];
      const watch = mecqkdStream(['watch', '--context', id, '--count', '1', '--output', 'json'], env);
      await watch.line((l) => l.includes('"listening"'));
      // the MEC system moves the context (its host's QKD link drained: KeysLow), not the client
      await w.tb.adjustLink(from, { storedBits: 0, enabled: false });
      let to: string;
      try {
        const note = JSON.parse(await watch.line((l) => l.includes('"notification"'))).notification;
        expect(note).to.include({ notificationType: 'AddressChangeNotification', contextId: id });
        to = (note.appInstanceId as string).split('/')[0]!;
        expect(to).to.not.equal(from);
        const sim = w.tb.whisks[to]!;
        expect(note.referenceURI).to.equal(invocationUrl(sim.apiHost, sim.namespace, action));
        expect(note.vendorSpecificExt.hostSaeId).to.equal(saeOf(to));
        expect((await watch.ended).code).to.equal(0);
      } finally {
        await w.tb.adjustLink(from, { enabled: true, storedBits: Number.MAX_SAFE_INTEGER });
      }
      // the state file now names the new host: the sealed call goes there and runs there once
      const ranBefore = await successfulActivations(w.tb, to, action);
      const r = json(ok(await mecqkd(['invoke', id, '--args', '{"i":11}', '-o', 'json'], env)));
      expect(r).to.include({ contextId: id, hostSaeId: saeOf(to) });
      expect(r.result).to.deep.equal({ i: 11, square: 121 });
      expect(await successfulActivations(w.tb, to, action)).to.equal(ranBefore + 1);
      ok(await mecqkd(['contexts', 'delete', id], env));
    });

    it('exit 3 when the LCMP cannot be reached, exit 2 when credentials are refused', async () => {
      const port = await freePort();
      const down = await mecqkd(['apps'], { ...env, MECQKD_LCMP_URL: `https://127.0.0.1:${port}` });
      expect(down.code, down.stderr).to.equal(3);
      expect(down.stderr).to.contain('ECONNREFUSED');
      const wrong = await mecqkd(['apps', '-o', 'json'], {
        ...env,
        MECQKD_CLIENT_SECRET: 'wrong-secret-0123456789',
      });
      expect(wrong.code).to.equal(2);
      expect(JSON.parse(wrong.stderr).error).to.include({
        code: 2,
        status: 401,
        oauthError: 'invalid_client',
      });
      expect(wrong.stderr).to.not.contain('wrong-secret');
    });
  });
});
