// The client KME's key quota as the SDK meets it, against a real kme-sim pair: the quota derived
// from the app's declared demand (saeKeyQuota, the host SAE's allowance summed), a key supply that
// does not pace itself waits the KME's refusals out and loses no invocation, and one that paces
// itself to the declared demand is never refused.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createQkd014Client, type Qkd014Client } from '@mecqkd/kme-sim/client';
import { DEFAULT_KEY_SIZE } from '@mecqkd/kme-sim/config';
import { startTestbed, type Testbed } from '@mecqkd/kme-sim/testbed';
import { expect } from 'chai';
import { saeKeyQuota } from '../src/key-allowance.ts';
import { createKeySupply, type KeySupply } from '../src/key-supply.ts';

describe('sdk key supply under the client KME key quota', function () {
  this.timeout(90_000);
  // 10 invocations/s at one key each: 10 keys/s, a burst of 20 keys
  const demand = { expectedInvocationsPerSecond: 10, invocationsPerKey: 1, keySizeBits: DEFAULT_KEY_SIZE };
  const appQos = saeKeyQuota([demand]);
  let tb: Testbed;
  const clients: Qkd014Client[] = [];
  const supplies: KeySupply[] = [];

  before(async () => {
    tb = await startTestbed(
      {
        kmes: [
          {
            id: 'KME_A',
            saes: [
              { id: 'SAE_PACED', appQos },
              { id: 'SAE_UNPACED', appQos },
            ],
            process: 'kmes',
          },
          { id: 'KME_B', saes: ['SAE_B'], process: 'kmes' },
        ],
        links: [{ kmes: ['KME_A', 'KME_B'], skrBitsPerSecond: 1_000_000 }],
      },
      join(tmpdir(), `sdk-key-quota-${process.pid}`),
    );
  });
  after(async () => {
    for (const s of supplies) s.close();
    for (const c of clients) c.close();
    await tb?.stop();
    if (tb) rmSync(tb.dir, { recursive: true, force: true });
  });

  const supply = (saeId: string, o: Partial<Parameters<typeof createKeySupply>[0]> = {}) => {
    const s = tb.saes[saeId]!;
    const kme = createQkd014Client({
      url: s.url,
      ca: readFileSync(s.ca),
      cert: readFileSync(s.cert),
      key: readFileSync(s.key),
    });
    clients.push(kme);
    const ks = createKeySupply({ kme, hostSaeId: 'SAE_B', invocationsPerKey: 1, spares: 1, ...o });
    supplies.push(ks);
    return ks;
  };
  const refusals = async (saeId: string) => {
    const text = await (await fetch(`${tb.kmes.KME_A!.opsUrl}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('kme_key_quota_refusals_total{') && l.includes(saeId));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  };

  it('derives the quota from the declared demand: the allowance in key bits', () => {
    expect(appQos).to.deep.equal({ maxBandwidth: 10 * 256, burstBits: 20 * 256 });
    // a second context of another app, rarely invoked, with 512-bit keys: its floor and burst add up
    const rare = { expectedInvocationsPerSecond: 1, invocationsPerKey: 10, keySizeBits: 512 };
    expect(saeKeyQuota([demand, rare])).to.deep.equal({
      maxBandwidth: Math.ceil(10 * 256 + 0.1 * 512),
      burstBits: 20 * 256 + 16 * 512,
    });
    expect(() => saeKeyQuota([])).to.throw(/at least one context/);
  });

  it('waits out the KME’s refusals when it does not pace itself, losing no invocation', async () => {
    const s = supply('SAE_UNPACED');
    const ids = new Set<string>();
    for (let i = 0; i < 40; i++) ids.add((await s.next()).keyId);
    expect(ids.size, 'a key for every invocation').to.equal(40);
    expect(await refusals('SAE_UNPACED'), 'the KME refused past the burst').to.be.greaterThan(0);
    expect(s.stats().paced).to.be.greaterThan(0);
  });

  it('is never refused when it paces itself to the declared demand', async () => {
    const s = supply('SAE_PACED', { expectedInvocationsPerSecond: demand.expectedInvocationsPerSecond });
    for (let i = 0; i < 40; i++) await s.next();
    expect(s.stats().keysFetched).to.be.at.least(40);
    expect(await refusals('SAE_PACED')).to.equal(0);
  });
});
