// The key allowance as a client meets it, through every real part: SDK → whisk-sim web action →
// action wrapper → host SAE process (its state in a real redis-server) → kme-sim over mutual TLS.
// Two contexts of one app share one QKD link: a greedy client that does not pace itself is refused
// with the typed KeyRateExceeded and then held back, while a client declaring the app's demand is
// paced by the SDK, never refused, and gets every answer.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa } from '@mecqkd/common/pki';
import { startHostSaeProcess } from '@mecqkd/host-sae/testbed';
import { bindWrapperSecret, wrapAction } from '@mecqkd/host-sae/wrapper/bundle';
import { createQkd014Client, type Qkd014Client } from '@mecqkd/kme-sim/client';
import { startTestbed } from '@mecqkd/kme-sim/testbed';
import { sharedRedis } from '@mecqkd/localenv/shared';
import { startWhiskSim } from '@mecqkd/whisk-sim/testbed';
import { expect } from 'chai';
import openwhisk from 'openwhisk';
import { keyAllowance } from '../src/key-allowance.ts';
import { createKeySupply, type KeySupply } from '../src/key-supply.ts';
import { createSecureInvoker, InvocationRefused, KeyRateExceeded } from '../src/secure-invoke.ts';

describe('key allowance through the secure-invocation path (SDK, wrapper, host SAE, redis, kme-sim)', function () {
  this.timeout(180_000);
  // the app's declared demand: 1 invocation/s, a key each — 1 key/s, a burst of 16 at the host
  const demand = { expectedInvocationsPerSecond: 1, invocationsPerKey: 1 };
  const stops: (() => Promise<void>)[] = [];
  const supplies: KeySupply[] = [];
  let dir: string;
  let kme: Qkd014Client;
  let referenceURI: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mecqkd-key-rate-'));
    const kmes = await startTestbed(
      {
        kmes: [
          { id: 'KME_CLIENT', saes: ['SAE_CLIENT'], process: 'kmes' },
          { id: 'KME_HOST', saes: ['SAE_HOST'], process: 'kmes' },
        ],
        links: [{ kmes: ['KME_CLIENT', 'KME_HOST'], skrBitsPerSecond: 1_000_000, capacityBits: 4_000_000 }],
      },
      join(dir, 'kmes'),
    );
    stops.push(() => kmes.stop());
    const ca = await createCa('key rate test CA');
    const wrapperSecret = randomBytes(32).toString('base64url');
    const h = kmes.saes.SAE_HOST!;
    const sae = await startHostSaeProcess({
      dir,
      saeId: 'SAE_HOST',
      ca,
      kme: { url: h.url, ca: h.ca, cert: h.cert, key: h.key },
      wrapperSecret,
      redisUrl: (await sharedRedis()).url,
    });
    stops.push(() => sae.stop());
    const sim = await startWhiskSim({
      dir: join(dir, 'whisk'),
      name: 'key-rate-host',
      capacityMb: 2048,
      config: { logLevel: 'warn' },
      containerEnv: {
        MECQKD_HOST_SAE_SERVICE_HOST: sae.host,
        MECQKD_HOST_SAE_SERVICE_PORT: String(sae.port),
      },
    });
    stops.push(() => sim.stop());
    const ow = openwhisk({ apihost: sim.apiHost, api_key: sim.auth, namespace: sim.namespace });
    const body = {
      exec: { kind: 'nodejs:20', code: 'function main(p) { return { twice: p.n * 2 }; }', main: 'main' },
      parameters: [],
      annotations: [],
    };
    const wrapped = bindWrapperSecret(wrapAction(body, { hostSaeCa: ca.cert, ...demand }), wrapperSecret);
    await ow.actions.update({ name: 'twice', action: wrapped as unknown as openwhisk.Action });
    referenceURI = `${sim.apiHost}/api/v1/web/${sim.namespace}/default/twice.json`;
    const c = kmes.saes.SAE_CLIENT!;
    kme = createQkd014Client({
      url: c.url,
      ca: readFileSync(c.ca),
      cert: readFileSync(c.cert),
      key: readFileSync(c.key),
    });
  });
  after(async () => {
    for (const s of supplies) s.close();
    kme?.close();
    for (const stop of stops.reverse()) await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const client = (declared: boolean) => {
    const keys = createKeySupply({
      kme,
      hostSaeId: 'SAE_HOST',
      invocationsPerKey: demand.invocationsPerKey,
      spares: 1,
      ...(declared ? { expectedInvocationsPerSecond: demand.expectedInvocationsPerSecond } : {}),
    });
    supplies.push(keys);
    const target = {
      referenceURI,
      contextId: randomBytes(16).toString('hex'),
      clientSaeId: 'SAE_CLIENT',
      invocationsPerKey: demand.invocationsPerKey,
    };
    return { keys, invoker: createSecureInvoker(target, keys) };
  };

  it('refuses a greedy context with KeyRateExceeded and holds it back; a declared one is paced and answered', async () => {
    const greedy = client(false);
    const polite = client(true);
    const { burst } = keyAllowance(demand);
    // more than the host's burst: unpaced, these would be refused too
    const politeCalls = burst + 6;
    const answers: unknown[] = [];
    const politeRun = (async () => {
      for (let n = 0; n < politeCalls; n++) answers.push(await polite.invoker.invoke({ n }));
    })();
    let refusal: unknown;
    let greedyOk = 0;
    for (let n = 0; n < 20 * burst && !refusal; n++) {
      try {
        expect(await greedy.invoker.invoke({ n })).to.deep.equal({ twice: 2 * n });
        greedyOk++;
      } catch (err) {
        refusal = err;
      }
    }
    expect(refusal, 'the greedy context is refused').to.be.instanceOf(KeyRateExceeded);
    const r = refusal as KeyRateExceeded;
    expect(r).to.be.instanceOf(InvocationRefused);
    expect(r.reason).to.equal('key-rate-exceeded');
    expect(r.retryAfterMs).to.be.above(0).and.at.most(1000);
    expect(r.message).to.match(/allowance/);
    expect(greedyOk).to.be.at.least(burst - 1);
    // the next call waits for the host's hint before it takes any key
    const pacedBefore = greedy.keys.stats().paced;
    const held = greedy.keys.next();
    expect(greedy.keys.stats().paced).to.equal(pacedBefore + 1);
    await held.then((use) => use.key.fill(0));

    await politeRun;
    expect(answers).to.deep.equal(Array.from({ length: politeCalls }, (_, n) => ({ twice: 2 * n })));
    expect(polite.invoker.stats().failures).to.deep.equal({});
    // it went past its own (half) burst, so the SDK paced it
    expect(polite.keys.stats().paced).to.be.above(0);
  });
});
