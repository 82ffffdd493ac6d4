// Malformed envelopes at a placed context's web action (the action wrapper) and at the host SAE's
// derive endpoint, from a seeded generator: every one refused with a clear 4xx naming a reason,
// none crashes the wrapper, the host SAE or the whisk-sim, and no error carries the plaintext or
// the key; a valid invocation still works afterwards.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { AppContext } from '@mecqkd/crds';
import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import type { RunningOperator } from '@mecqkd/operator/operator';
import { deriveKey, ENVELOPE_VERSION, type EnvelopeHeader, seal } from '@mecqkd/sdk/envelope';
import { createKeySupply } from '@mecqkd/sdk/key-supply';
import { actionOf } from '@mecqkd/sdk/secure-invoke';
import { expect } from 'chai';
import {
  clientKme,
  contexts,
  createApp,
  createContext,
  eventually,
  runOperator,
  secureInvoker,
} from '../../operator/test/e2e/support.ts';
import { mutateEnvelope } from '../src/envelope-mutants.ts';
import { seeded } from '../src/rng.ts';

/** POST over HTTPS verified against the host SAE's CA, as the wrapper does. */
function postTls(
  url: string,
  ca: string,
  secret: string,
  body: unknown,
): Promise<{ status: number; text(): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca,
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      },
      (res) => {
        let data = '';
        res.on('data', (c) => {
          data += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: async () => data }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const CASES = Number(process.env.ENVELOPE_FUZZ_CASES ?? 60);
const PLAINTEXT = 'envelope-fuzz-plaintext-7f3a';

describe('malformed envelopes at the action wrapper and the host SAE', function () {
  this.timeout(600_000);
  let tb: MecTestbed;
  let op: RunningOperator;
  let ctx: AppContext;

  before(async () => {
    tb = await startMecTestbed({ namespace: `fuzz-env-${Date.now().toString(36)}` });
    op = await runOperator(tb);
    await createApp(tb, 'echo', 'function main(p) { return { echo: p.note }; }');
    const id = await createContext(tb, 'echo');
    ctx = await eventually(
      'the context Placed',
      async () => (await contexts(tb)).find((c) => c.metadata.name === id && c.status?.phase === 'Placed'),
      120_000,
    );
  });
  after(async () => {
    await op?.stop();
    await tb?.stop();
  });

  it('refuses every mutant with a clear 4xx and leaks neither plaintext nor key', async () => {
    const kme = clientKme(tb);
    const keys = createKeySupply({ kme, hostSaeId: ctx.status!.hostSaeId!, invocationsPerKey: 1, spares: 0 });
    const rng = seeded(20261201);
    const wrong: string[] = [];
    const statuses: Record<number, number> = {};
    const host = ctx.status!.host!;
    const sae = tb.secure.hostSaes[host]!;
    const secret = readFileSync(tb.secure.wrapperSecretFile, 'utf8').trim();
    const ca = readFileSync(tb.secure.hostSaeCaFile, 'utf8');
    for (let i = 0; i < CASES; i++) {
      const use = await keys.next();
      const header: EnvelopeHeader = {
        v: ENVELOPE_VERSION,
        keyId: use.keyId,
        seq: use.seq,
        contextId: ctx.metadata.name,
        action: actionOf(ctx.status!.referenceURI!),
        clientSaeId: tb.clientSae.id,
        direction: 'request',
      };
      const valid = seal(deriveKey(use.key, header), header, { note: PLAINTEXT }) as unknown as Record<
        string,
        unknown
      >;
      const key = use.key.toString('base64');
      const m = mutateEnvelope(rng, valid);
      // half at the web action (through the wrapper), half straight at the host SAE
      const atSae = i % 2 === 1;
      const res = atSae
        ? await postTls(`${sae.url}/v1/derive`, ca, secret, { header: m.body, invocationsPerKey: 1 })
        : await fetch(ctx.status!.referenceURI!, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(m.body),
          });
      const text = await res.text();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const where = `${atSae ? 'host SAE' : 'wrapper'} ${m.what}`;
      if (res.status < 400 || res.status >= 500)
        wrong.push(`${where}: HTTP ${res.status} ${text.slice(0, 200)}`);
      else if (!/reason|detail|error/.test(text)) wrong.push(`${where}: no reason in ${text.slice(0, 200)}`);
      if (text.includes(PLAINTEXT) || text.includes(key))
        wrong.push(`${where}: plaintext or key in the error`);
      use.key.fill(0);
    }
    keys.close();
    console.log(`      envelopes: ${CASES} mutants, responses ${JSON.stringify(statuses)}`);
    expect(wrong).to.deep.equal([]);
    // nothing crashed: a valid invocation still works
    const inv = secureInvoker(tb, kme, ctx);
    expect(await inv.invoke({ note: 'still works' })).to.deep.equal({ echo: 'still works' });
    inv.close();
    kme.close();
  });
});
