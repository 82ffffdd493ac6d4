// Secure invocation end to end: the operator deploys wrapped web actions, a client takes keys from
// the client KME over mutual TLS, seals arguments, POSTs them to the referenceURI with no OpenWhisk
// key, and the host SAE (dec_keys at the host KME) serves whichever container runs the call.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AppContext } from '@mecqkd/crds';
import { openChannel, WrapperError } from '@mecqkd/host-sae/channel-client';
import type { Qkd014Client } from '@mecqkd/kme-sim/client';
import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import { deriveKey, type EnvelopeHeader, responseHeader, seal } from '@mecqkd/sdk/envelope';
import { createKeySupply } from '@mecqkd/sdk/key-supply';
import { actionOf, createSecureInvoker, InvocationRefused } from '@mecqkd/sdk/secure-invoke';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { RunningOperator } from '../../src/operator.ts';
import {
  clientKme,
  contexts,
  createApp,
  createContext,
  eventually,
  getJson,
  managedActions,
  runOperator,
  secureInvoker,
  whisk,
} from './support.ts';

const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples', 'actions');
const source = (file: string) => readFileSync(join(EXAMPLES, file), 'utf8');
/** The model run directly, for the expected answer. */
const direct = (code: string, args: unknown) => new Function(`${code}\n;return main;`)()(args);

// Known secrets: no log, record, Redis entry or stored object may contain them.
const PATIENT = 'patient-7f3a9c-confidential';
const PATIENT_ARGS = {
  cardio: {
    sex: 'female',
    age: 61,
    totalCholesterol: 180,
    hdlCholesterol: 47,
    systolicBloodPressure: 124,
    bloodPressureTreated: false,
    smoker: true,
    diabetes: false,
    patientRef: PATIENT,
  },
  covid: {
    age: 72,
    sex: 'male',
    comorbidities: 2,
    respiratoryRate: 24,
    oxygenSaturation: 90,
    glasgowComaScale: 15,
    ureaMmolL: 9,
    crpMgL: 120,
    patientRef: PATIENT,
  },
};
const SLOW_PID =
  'function main(p) { return new Promise((r) => setTimeout(() => r({ pid: process.pid, x: p.x }), p.ms)); }';

describe('secure invocation (e2e: operator, whisk-sim web actions, host SAE, kme-sim over mTLS)', function () {
  this.timeout(180_000);
  let tb: MecTestbed;
  let op: RunningOperator;
  let kme: Qkd014Client;
  /** Every key the client took from its KME, to scan for. */
  const keyMaterial: string[] = [];

  before(async () => {
    // MecHosts name the `_` alias, as the CRD default does: web URLs need the real namespace
    tb = await startMecTestbed({ namespace: `sec-inv-${Date.now().toString(36)}`, namespaceAlias: true });
    op = await runOperator(tb);
    await op.leading;
    const real = clientKme(tb);
    // the real client, noting what it returns
    kme = {
      ...real,
      encKeys: async (slave, req) => {
        const c = await real.encKeys(slave, req);
        for (const k of c.keys) keyMaterial.push(k.key, Buffer.from(k.key, 'base64').toString('hex'));
        return c;
      },
    };
  });
  after(async () => {
    kme?.close();
    await op?.stop();
    await tb?.stop();
  });

  async function placed(app: string): Promise<AppContext> {
    const id = await createContext(tb, app);
    return eventually(`context of ${app} Placed`, async () =>
      (await contexts(tb)).find((c) => c.metadata.name === id && c.status?.phase === 'Placed'),
    );
  }

  const invoker = (ctx: AppContext, n: number) => secureInvoker(tb, kme, ctx, n);
  /** The request header of each sequence number of `keyId`, for envelopes sealed by hand. */
  const headerOf =
    (ctx: AppContext, keyId: string) =>
    (seq: number): EnvelopeHeader => ({
      v: 1,
      keyId,
      seq,
      contextId: ctx.metadata.name,
      action: actionOf(ctx.status!.referenceURI!),
      clientSaeId: tb.clientSae.id,
      direction: 'request',
    });

  it('invokes both hospital models securely and gets their results', async () => {
    await createApp(tb, 'cardio', source('cardio-risk.js'), { invocationsPerKey: 5 });
    await createApp(tb, 'covid', source('covid-risk.js'), { invocationsPerKey: 5 });
    for (const [app, file] of [
      ['cardio', 'cardio-risk.js'],
      ['covid', 'covid-risk.js'],
    ] as const) {
      const ctx = await placed(app);
      const ns = tb.whisks[ctx.status!.host!]!.namespace;
      expect(ctx.status?.referenceURI).to.match(new RegExp(`/api/v1/web/${ns}/default/mecqkd-.+\\.json$`));
      const inv = invoker(ctx, 5);
      const expected = direct(source(file), PATIENT_ARGS[app]);
      // 12 invocations at N = 5: three keys, each sequence used once
      for (let i = 0; i < 12; i++) expect(await inv.invoke(PATIENT_ARGS[app])).to.deep.equal(expected);
      expect(inv.stats()).to.include({ invocations: 12 });
      expect(inv.stats().keysFetched).to.be.within(3, 4); // the fourth is the prefetched spare
      inv.close();
    }
  });

  it('the referenceURI takes no OpenWhisk key and refuses plaintext arguments', async () => {
    const ctx = await placed('cardio');
    const res = await fetch(ctx.status!.referenceURI!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(PATIENT_ARGS.cardio),
    });
    expect(res.status).to.equal(400);
    expect(await res.json()).to.include({ reason: 'unsupported-version' });
  });

  it('two containers of one action serve one key; a replay is refused in another container', async () => {
    await createApp(tb, 'pids', SLOW_PID, { invocationsPerKey: 10 });
    const ctx = await placed('pids');
    const c = await kme.encKeys(ctx.status!.hostSaeId!, { number: 1, size: 256 });
    const { key_ID: keyId, key } = c.keys[0]!;
    const qkd = Buffer.from(key, 'base64');
    const header = headerOf(ctx, keyId);
    const post = (body: unknown) =>
      fetch(ctx.status!.referenceURI!, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    const envelopes = [0, 1].map((seq) =>
      seal(deriveKey(qkd, header(seq)), header(seq), { x: seq, ms: 800 }),
    );
    // both at once: one container is busy with the other, so whisk-sim runs a second one
    const [a, b] = await Promise.all(envelopes.map(post));
    const { open, parseEnvelope } = await import('@mecqkd/sdk/envelope');
    const results = [a!, b!].map((r, seq) => {
      expect(r.status).to.equal(200);
      return open(deriveKey(qkd, responseHeader(header(seq))), parseEnvelope(r.body)) as {
        result: { pid: number; x: number };
      };
    });
    expect(results.map((r) => r.result.x)).to.deep.equal([0, 1]);
    expect(results[0]!.result.pid).to.not.equal(results[1]!.result.pid);
    // a replay of seq 0 while seq 2 keeps one container busy: refused wherever it runs
    const third = seal(deriveKey(qkd, header(2)), header(2), { x: 2, ms: 800 });
    const [ok, replay] = await Promise.all([post(third), post(envelopes[0])]);
    expect(ok.status).to.equal(200);
    expect(replay.status).to.equal(400);
    expect(replay.body).to.include({ reason: 'replay' });
    // and a sequence past N
    const past = seal(deriveKey(qkd, header(10)), header(10), { x: 10, ms: 1 });
    expect((await post(past)).body).to.include({ reason: 'sequence-exhausted' });
    keyMaterial.push(key, qkd.toString('hex'));
    const metrics = await (await fetch(`${tb.secure.hostSaes[ctx.status!.host!]!.opsUrl}/metrics`)).text();
    expect(metrics).to.match(/mecqkd_host_sae_envelope_failures_total\{reason="replay",[^}]*\} [1-9]/);
    expect(metrics).to.match(/mecqkd_host_sae_keys_fetched_total\{[^}]*\} [1-9]/);
  });

  it('a container killed holding keys ahead: the next one serves the sequence numbers it never took', async () => {
    await createApp(tb, 'pids-ahead', SLOW_PID, { invocationsPerKey: 20 });
    const ctx = await placed('pids-ahead');
    const c = await kme.encKeys(ctx.status!.hostSaeId!, { number: 1, size: 256 });
    const { key_ID: keyId, key } = c.keys[0]!;
    keyMaterial.push(key, Buffer.from(key, 'base64').toString('hex'));
    const qkd = Buffer.from(key, 'base64');
    const header = headerOf(ctx, keyId);
    const { open, parseEnvelope } = await import('@mecqkd/sdk/envelope');
    const sealed = (seq: number) => seal(deriveKey(qkd, header(seq)), header(seq), { x: seq, ms: 1 });
    const post = async (body: unknown) => {
      const r = await fetch(ctx.status!.referenceURI!, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const pidOf = (seq: number, r: { body: Record<string, unknown> }) =>
      (
        open(deriveKey(qkd, responseHeader(header(seq))), parseEnvelope(r.body)) as {
          result: { pid: number };
        }
      ).result.pid;
    // seq 0 asks the host SAE and takes the next ones ahead; seq 1 is one of them
    const first = await post(sealed(0));
    expect(first.status).to.equal(200);
    const pid = pidOf(0, first);
    const second = await post(sealed(1));
    expect(pidOf(1, second)).to.equal(pid);
    process.kill(pid, 'SIGKILL');
    // a new container: what the dead one never took is served, what it took is a replay
    const third = await eventually('an invocation after the container died', async () => {
      const r = await post(sealed(2));
      return r.status === 200 ? r : undefined;
    });
    expect(pidOf(2, third)).to.not.equal(pid);
    const again = await post(sealed(1));
    expect(again.body).to.include({ reason: 'replay' });
  });

  it('a refusal is reported to the client with its reason, and loses no plaintext', async () => {
    const ctx = await placed('cardio');
    const inv = invoker(ctx, 5);
    const wrong = createSecureInvoker(
      {
        referenceURI: ctx.status!.referenceURI!,
        contextId: ctx.metadata.name,
        clientSaeId: 'SAE_NOBODY',
        invocationsPerKey: 5,
      },
      createKeySupply({ kme, hostSaeId: ctx.status!.hostSaeId!, invocationsPerKey: 5, spares: 0 }),
    );
    const err = await wrong.invoke(PATIENT_ARGS.cardio).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(InvocationRefused);
    expect((err as InvocationRefused).reason).to.equal('unknown-key');
    expect(String((err as Error).message)).to.not.include(PATIENT);
    expect(await inv.invoke(PATIENT_ARGS.cardio)).to.have.property('model', 'framingham-cvd-2008');
    inv.close();
  });

  it("one host's wrapper secret is refused by another host's SAE; each host's actions hold its own", async () => {
    const hosts = Object.keys(tb.secure.hostSaes);
    expect(hosts).to.have.length(2);
    const sae = (h: string) => tb.secure.hostSaes[h]!;
    const secretOf = (h: string) => readFileSync(sae(h).wrapperSecretFile, 'utf8').trim();
    const [a, b] = hosts as [string, string];
    expect(secretOf(a)).to.not.equal(secretOf(b));
    const ca = readFileSync(tb.secure.hostSaeCaFile, 'utf8');
    // a failure report is the harmless call: answered only on an authenticated channel
    const asWrapper = async (h: string, secret: string) => {
      const channel = openChannel({ host: sae(h).host, port: sae(h).port, ca, secret });
      try {
        return await channel.call({ op: 'failure', reason: 'malformed' });
      } catch (err) {
        return err;
      } finally {
        channel.close();
      }
    };
    for (const [host, other] of [
      [a, b],
      [b, a],
    ] as const) {
      expect(await asWrapper(host, secretOf(host))).to.deep.equal({ id: 1 });
      const refused = await asWrapper(other, secretOf(host));
      expect(refused).to.be.instanceOf(WrapperError);
      expect((refused as WrapperError).reason).to.equal('misconfigured');
    }
    let deployed = 0;
    for (const h of hosts) {
      for (const name of await managedActions(tb, h)) {
        const action = await whisk(tb, h).actions.get({ name });
        const secret = action.parameters?.find((p) => p.key === 'MECQKD_WRAPPER_SECRET')?.value;
        expect(secret, `${name} on ${h}`).to.equal(secretOf(h));
        deployed++;
      }
    }
    expect(deployed).to.be.greaterThan(0);
  });

  it('no activation record, log, Redis entry or stored object holds key material or plaintext', async () => {
    const secrets = [PATIENT, ...keyMaterial];
    expect(keyMaterial.length).to.be.greaterThan(4);
    const found = (where: string, text: string) => {
      for (const s of secrets) expect(text.includes(s), `${where} contains a known secret`).to.equal(false);
    };
    for (const host of Object.keys(tb.whisks)) {
      const records = await whisk(tb, host).activations.list({ limit: 200, docs: true });
      expect(records.length).to.be.greaterThan(0);
      found(`activation records of ${host}`, JSON.stringify(records));
    }
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((f) => {
        const p = join(dir, f);
        return statSync(p).isDirectory() ? walk(p) : [p];
      });
    const logs = walk(tb.dir).filter((f) => f.endsWith('.log'));
    expect(logs.length).to.be.greaterThan(2);
    for (const f of logs) found(f, readFileSync(f, 'utf8'));
    for (const kind of ['appcontexts', 'mecapps', 'mechosts', 'qkdlinks', 'events'])
      found(`apiserver ${kind}`, JSON.stringify(await getJson(tb, kind)));
    const redis = new Redis(tb.redis.url);
    try {
      const dump: unknown[] = [];
      for (const key of await redis.keys('*')) {
        const type = await redis.type(key);
        if (type === 'string') dump.push(await redis.get(key));
        else if (type === 'hash') dump.push(await redis.hgetall(key));
        else if (type === 'stream') dump.push(await redis.xrange(key, '-', '+'));
        else if (type === 'list') dump.push(await redis.lrange(key, '0', '-1'));
        else if (type === 'set') dump.push(await redis.smembers(key));
        else if (type === 'zset') dump.push(await redis.zrange(key, '0', '-1'));
      }
      expect(dump.length, 'redis holds the telemetry snapshots').to.be.greaterThan(0);
      found('redis', JSON.stringify(dump));
    } finally {
      redis.disconnect();
    }
  });
});
