import { sharedRedis } from '@mecqkd/localenv/shared';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { telemetryStore } from '../../src/telemetry/store.ts';
import type { LinkSample } from '../../src/telemetry/types.ts';

describe('telemetry: Redis store', function () {
  this.timeout(30_000);
  let redis: Redis;
  const prefix = `test:${process.pid}:${Date.now()}`;

  before(async () => {
    redis = new Redis((await sharedRedis()).url, { lazyConnect: true });
    await redis.connect();
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('stores host samples under documented keys and splits fresh from stale', async () => {
    const store = telemetryStore(redis, { maxAgeMs: 10_000, prefix });
    const now = 1_700_000_000_000;
    await store.putHosts([
      { host: 'edge/host-1', load: 0.25, time: now - 1000, source: 'prometheus' },
      { host: 'edge/host-2', load: 1, time: now - 60_000, source: 'scrape' },
    ]);
    expect(await redis.hgetall(`${prefix}:host:edge/host-1`)).to.deep.equal({
      load: '0.25',
      time: String(now - 1000),
      source: 'prometheus',
    });
    const ttl = await redis.pttl(`${prefix}:host:edge/host-1`);
    expect(ttl).to.be.within(90_000, 100_000);
    const read = await store.getHosts(['edge/host-1', 'edge/host-2', 'edge/host-3'], now);
    expect(read.fresh).to.deep.equal([
      { host: 'edge/host-1', load: 0.25, time: now - 1000, source: 'prometheus' },
    ]);
    expect(read.stale.map((s) => s.host)).to.deep.equal(['edge/host-2']);
    expect(read.missing).to.deep.equal(['edge/host-3']);
    // The same sample turns stale as time passes.
    const later = await store.getHosts(['edge/host-1'], now + 9_500);
    expect(later.stale.map((s) => s.host)).to.deep.equal(['edge/host-1']);
  });

  it('round-trips link samples and treats a corrupt entry as missing', async () => {
    const store = telemetryStore(redis, { maxAgeMs: 5000, prefix });
    const sample: LinkSample = {
      link: 'edge/client--host-1',
      state: 'ACTIVE',
      secretKeyRate: 72_000,
      storedKeys: 3000,
      capacityKeys: 3906,
      keyAvailability: 0.768,
      time: Date.now(),
      source: 'kme',
    };
    await store.putLinks([sample]);
    await redis.hset(`${prefix}:link:edge/broken`, { state: 'SIDEWAYS', time: 'soon' });
    const read = await store.getLinks(['edge/client--host-1', 'edge/broken']);
    expect(read.fresh).to.deep.equal([sample]);
    expect(read.missing).to.deep.equal(['edge/broken']);
  });

  it('refuses a non-positive max age', () => {
    expect(() => telemetryStore(redis, { maxAgeMs: 0 })).to.throw(/maxAgeMs/);
  });
});
