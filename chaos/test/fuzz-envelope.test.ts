// Malformed envelopes at a placed context's web action (the action wrapper) and at the host SAE's
// wrapper channel, from a seeded generator: every one refused with a clear 4xx naming a reason,
// none crashes the wrapper, the host SAE or the whisk-sim, and no error carries the plaintext or
// the key; a valid invocation still works afterwards.
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import type { AppContext } from '@mecqkd/crds';
import { CHANNEL_ALPN, readFrames, writeFrame } from '@mecqkd/host-sae/frames';
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
import { seededRng } from '../src/rng.ts';

/**
 * One derive frame on a fresh wrapper channel (hello with the host's wrapper secret, then the frame),
 * answered like an HTTP status: the SAE's first reply frame, whether it answers the frame (with its
 * id) or refuses the connection (an oversized frame) — so every refusal's status is seen.
 */
function deriveAtSae(
  sae: { host: string; port: number },
  ca: string,
  secret: string,
  header: unknown,
): Promise<{ status: number; text(): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: sae.host, port: sae.port, ca, ALPNProtocols: [CHANNEL_ALPN] });
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('the host SAE closed the channel without an answer')));
    writeFrame(socket, { op: 'hello', secret });
    writeFrame(socket, {
      id: 1,
      op: 'derive',
      header,
      invocationsPerKey: 1,
      expectedInvocationsPerSecond: 1,
    });
    readFrames(
      socket,
      (text) => {
        const reply = JSON.parse(text) as { error?: { status?: number } };
        socket.destroy();
        resolve({ status: reply.error ? (reply.error.status ?? 0) : 200, text: async () => text });
      },
      () => reject(new Error('the host SAE sent an oversized frame')),
    );
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
    const rng = seededRng(20261201);
    const wrong: string[] = [];
    const statuses: Record<number, number> = {};
    const host = ctx.status!.host!;
    const sae = tb.secure.hostSaes[host]!;
    const secret = readFileSync(sae.wrapperSecretFile, 'utf8').trim();
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
        ? await deriveAtSae(sae, ca, secret, m.body)
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
