import { expect } from 'chai';
import { Config, type LinkConfig } from '../src/config.ts';
import { Link } from '../src/link.ts';
import { linkStatus } from '../src/link-status.ts';

const SEED = 'ab'.repeat(32);

function linkConfig(extra: Record<string, unknown> = {}): LinkConfig {
  const tls = { cert: 'c', key: 'k', ca: 'a' };
  const config = Config.parse({
    kmes: [
      { id: 'kme-a', port: 1, tls },
      { id: 'kme-b', port: 2, tls },
    ],
    links: [
      {
        id: 'ab',
        kmes: ['kme-a', 'kme-b'],
        seed: SEED,
        skrBitsPerSecond: 1000,
        capacityBits: 10_000,
        ...extra,
      },
    ],
  });
  return config.links[0] as LinkConfig;
}

describe('simulated QKD link', () => {
  it('gives both ends the same bits, a different stream per direction', () => {
    const a = new Link(linkConfig(), 'kme-a');
    const b = new Link(linkConfig(), 'kme-b');
    const offset = a.allocate(64);
    expect(b.incoming(offset, 64).equals(a.outgoing(offset, 64))).to.equal(true);
    expect(a.incoming(offset, 64).equals(a.outgoing(offset, 64))).to.equal(false);
    // Any sub-range regenerates identically (the receiver may read an unaligned offset).
    expect(b.incoming(offset + 5, 20).equals(a.outgoing(offset, 64).subarray(5, 25))).to.equal(true);
  });

  it('starts PENDING with no keys, then fills at the secret key rate up to capacity', () => {
    const link = new Link(linkConfig({ initialBits: 0 }), 'kme-a');
    expect(link.state(0)).to.equal('PENDING');
    expect(link.tryDebit(1, 0)).to.equal(false);
    link.activate(0);
    expect(link.storedBits(0)).to.equal(0);
    expect(link.storedBits(2000)).to.equal(2000);
    expect(link.storedBits(60_000)).to.equal(10_000);
    expect(link.state(60_000)).to.equal('ACTIVE');
  });

  it('serves a reservation whole or not at all, and takes back a failed one', () => {
    const link = new Link(linkConfig({ initialBits: 1000, skrBitsPerSecond: 0 }), 'kme-a');
    link.activate(0);
    expect(link.tryDebit(1024, 0)).to.equal(false);
    expect(link.storedBits(0)).to.equal(1000);
    expect(link.tryDebit(512, 0)).to.equal(true);
    expect(link.storedBits(0)).to.equal(488);
    link.credit(512, 0);
    expect(link.storedBits(0)).to.equal(1000);
  });

  it('stops generating during an outage: ACTIVE → PASSIVE → OFF → ACTIVE', () => {
    const link = new Link(
      linkConfig({ initialBits: 600, outages: [{ startSeconds: 1, durationSeconds: 10 }] }),
      'kme-a',
    );
    link.activate(0);
    expect(link.state(500)).to.equal('ACTIVE');
    expect(link.storedBits(1000)).to.equal(1600);
    expect(link.state(2000)).to.equal('PASSIVE');
    expect(link.skr(2000)).to.equal(0);
    expect(link.tryDebit(1600, 2000)).to.equal(true);
    expect(link.state(5000)).to.equal('OFF');
    expect(link.retryAfterSeconds(256, 5000)).to.be.greaterThan(0);
    expect(link.storedBits(11_000)).to.equal(0);
    expect(link.state(11_500)).to.equal('ACTIVE');
    expect(link.storedBits(13_000)).to.equal(2000);
  });

  it('reports QKD 015 status with availability in [0,1] and recent consumption', () => {
    const link = new Link(linkConfig(), 'kme-a');
    const now = 1_000_000;
    link.activate(now);
    link.tryDebit(5000, now);
    const s = linkStatus(link, 256, now);
    expect(s).to.include({ status: 'ACTIVE', storedBits: 5000, capacityBits: 10_000, keyAvailability: 0.5 });
    expect(s).to.include({ storedKeyCount: 19, maxKeyCount: 39, skr: 1000, expectedConsumption: 500 });
  });

  it('follows admin adjustments: rate, stock, enable', () => {
    const link = new Link(linkConfig(), 'kme-a');
    link.activate(0);
    link.adjust({ storedBits: 0, skrBitsPerSecond: 0 }, 0);
    expect(link.state(0)).to.equal('OFF');
    link.adjust({ skrBitsPerSecond: 4000 }, 0);
    expect(link.storedBits(1000)).to.equal(4000);
    link.adjust({ enabled: false }, 1000);
    expect(link.state(2000)).to.equal('PASSIVE');
    expect(link.retryAfterSeconds(8000, 2000)).to.equal(10);
  });

  it('derives its rate from fibre length when no rate is given', () => {
    expect(new Link(linkConfig({ skrBitsPerSecond: undefined, fibreKm: 50 }), 'kme-a').skr()).to.equal(0);
    const link = new Link(linkConfig({ skrBitsPerSecond: undefined, fibreKm: 50 }), 'kme-a');
    link.activate();
    expect(Math.round(link.skr())).to.equal(4760);
  });
});
