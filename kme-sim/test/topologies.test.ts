import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DEFAULT_SKR_MODEL, secretKeyRate } from '../src/skr.ts';
import { startTestbed, type Testbed } from '../src/testbed.ts';
import { MEC_KMES, MEC_SAES, mecTopology } from '../src/topologies.ts';
import { ops, saeClient } from './helpers.ts';

describe('MEC topology for the operator and the demo', function () {
  this.timeout(60_000);
  let tb: Testbed;

  before(async () => {
    tb = await startTestbed(mecTopology({ host2Via: 'relay' }), join(tmpdir(), `kme-sim-mec-${process.pid}`));
  });
  after(async () => {
    await tb?.stop();
    if (tb) rmSync(tb.dir, { recursive: true, force: true });
  });

  it('serves the client SAE towards host 1 directly and host 2 through the relay', async () => {
    const client = saeClient(tb, MEC_SAES.client);
    const host2 = saeClient(tb, MEC_SAES.host2);
    try {
      expect(await client.status(MEC_SAES.host1)).to.include({ target_KME_ID: MEC_KMES.host1 });
      const enc = await client.encKeys(MEC_SAES.host2, { number: 2 });
      expect(
        (
          await host2.decKeys(
            MEC_SAES.client,
            enc.keys.map((k) => k.key_ID),
          )
        ).keys,
      ).to.deep.equal(enc.keys);
    } finally {
      client.close();
      host2.close();
    }
    const route = (await ops(tb, MEC_KMES.host2, `/mecqkd/v1/routes/${MEC_KMES.client}`)) as {
      type: string;
      skr: number;
    };
    expect(route.type).to.equal('VIRT');
    expect(route.skr).to.be.closeTo(secretKeyRate(DEFAULT_SKR_MODEL, 20), 1e-6);
  });
});
