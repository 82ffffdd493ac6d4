// The client's key-use policy against a real kme-sim pair: N sequence numbers per key, T per key,
// spares fetched ahead so the steady state never waits on the KME, concurrent callers sharing a key.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createQkd014Client, type Qkd014Client } from '@mecqkd/kme-sim/client';
import { startTestbed, type Testbed } from '@mecqkd/kme-sim/testbed';
import { expect } from 'chai';
import { createKeySupply, type KeySupply, KeySupplyClosed } from '../src/key-supply.ts';
import { createClientMetrics } from '../src/metrics.ts';

async function until(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('sdk key supply (N invocations or T per key, prefetched)', function () {
  this.timeout(60_000);
  let tb: Testbed;
  let kme: Qkd014Client;
  const supplies: KeySupply[] = [];
  before(async () => {
    tb = await startTestbed(
      {
        kmes: [
          { id: 'KME_A', saes: ['SAE_A'], process: 'kmes' },
          { id: 'KME_B', saes: ['SAE_B'], process: 'kmes' },
        ],
        links: [{ kmes: ['KME_A', 'KME_B'], skrBitsPerSecond: 1_000_000 }],
      },
      join(tmpdir(), `sdk-keys-${process.pid}`),
    );
    const s = tb.saes.SAE_A!;
    kme = createQkd014Client({
      url: s.url,
      ca: readFileSync(s.ca),
      cert: readFileSync(s.cert),
      key: readFileSync(s.key),
    });
  });
  after(async () => {
    for (const s of supplies) s.close();
    kme?.close();
    await tb?.stop();
  });
  const supply = (o: Partial<Parameters<typeof createKeySupply>[0]> = {}) => {
    const s = createKeySupply({ kme, hostSaeId: 'SAE_B', invocationsPerKey: 3, ...o });
    supplies.push(s);
    return s;
  };

  it('hands out sequence numbers 0 … N−1 per key, then a fresh key', async () => {
    const metrics = createClientMetrics();
    const s = supply({ metrics });
    const uses = [];
    for (let i = 0; i < 7; i++) uses.push(await s.next());
    expect(uses.map((u) => u.seq)).to.deep.equal([0, 1, 2, 0, 1, 2, 0]);
    expect(new Set(uses.map((u) => u.keyId)).size).to.equal(3);
    expect(uses[0]!.key).to.have.length(32);
    expect(await metrics.registry.getSingleMetricAsString('mecqkd_client_invocations_per_key')).to.match(
      /mecqkd_client_invocations_per_key_count 2/,
    );
  });

  it('counts the invocations of the key in use when the supply closes', async () => {
    const metrics = createClientMetrics();
    const s = supply({ invocationsPerKey: 10, spares: 0, metrics });
    for (let i = 0; i < 4; i++) await s.next();
    s.close();
    const text = await metrics.registry.getSingleMetricAsString('mecqkd_client_invocations_per_key');
    expect(text).to.match(/mecqkd_client_invocations_per_key_count 1$/m);
    expect(text).to.match(/mecqkd_client_invocations_per_key_sum 4$/m);
  });

  it('rejects a caller waiting on its allowance with KeySupplyClosed when the supply closes', async () => {
    // what a migration does to the old address's supply: the caller must learn that nothing was sent
    const s = supply({ spares: 0 });
    s.backOff(300);
    const waiting = s.next().then(
      () => undefined,
      (err: unknown) => err,
    );
    s.close();
    expect(await waiting).to.be.instanceOf(KeySupplyClosed);
  });

  it('keeps a spare ready, so only the first invocation waits on the KME', async () => {
    const s = supply({ spares: 1 });
    for (let i = 0; i < 9; i++) {
      await s.next();
      await until('a spare key', () => s.stats().keysFetched >= Math.floor(i / 3) + 2);
    }
    expect(s.stats()).to.include({ invocations: 9, waits: 1 });
  });

  it('retires a key after T even with sequence numbers left', async () => {
    let t = 0;
    const s = supply({ invocationsPerKey: 100, keyLifetimeMs: 1000, spares: 0, now: () => t });
    const a = await s.next();
    t = 999;
    expect((await s.next()).keyId).to.equal(a.keyId);
    t = 1000;
    const b = await s.next();
    expect(b.keyId).to.not.equal(a.keyId);
    expect(b.seq).to.equal(0);
  });

  it('lets concurrent callers share one key switch, never a sequence number twice', async () => {
    const s = supply({ invocationsPerKey: 4, spares: 0 });
    const uses = await Promise.all(Array.from({ length: 8 }, () => s.next()));
    const pairs = new Set(uses.map((u) => `${u.keyId}/${u.seq}`));
    expect(pairs.size).to.equal(8);
    expect(new Set(uses.map((u) => u.keyId)).size).to.equal(2);
  });
});
