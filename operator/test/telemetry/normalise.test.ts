import { parseExposition } from '@mecqkd/common/exposition';
import { expect } from 'chai';
import { hostLoad, linkReadings, linkSample } from '../../src/telemetry/normalise.ts';
import type { LinkTarget } from '../../src/telemetry/targets.ts';

const target: LinkTarget = { link: 'edge/a--b', ends: [{ kmeId: 'a' }, { kmeId: 'b' }] };

function end(kme: string, peer: string, stored: number, state: string) {
  const l = `kme_id="${kme}",link_id="a--b",peer_kme_id="${peer}"`;
  return [
    `kme_link_stored_bits{${l}} ${stored}`,
    `kme_link_capacity_bits{${l}} 1000000`,
    `kme_link_secret_key_rate_bits_per_second{${l}} 5000`,
    `kme_link_key_availability{${l}} ${stored / 1_000_000}`,
    ...['ACTIVE', 'PASSIVE', 'PENDING', 'OFF'].map(
      (s) => `kme_link_state{${l},state="${s}"} ${s === state ? 1 : 0}`,
    ),
  ].join('\n');
}

describe('telemetry: normalisation', () => {
  it('host load is in-flight memory over capacity, clamped, and absent without a capacity gauge', () => {
    const text = (inflight: number) =>
      `gauge_loadbalancer_memoryManagedInflight_counter{controller_id="0"} ${inflight}\n` +
      'gauge_loadbalancer_totalCapacityManaged_counter{controller_id="0"} 512\n';
    expect(hostLoad(parseExposition(text(128)))).to.equal(0.25);
    expect(hostLoad(parseExposition(text(2048)))).to.equal(1);
    expect(hostLoad(parseExposition('up 1'))).to.equal(undefined);
  });

  it('combines both ends of a link pessimistically and converts bits to keys', () => {
    const series = parseExposition(
      `${end('a', 'b', 512_000, 'ACTIVE')}\n${end('b', 'a', 256_000, 'PASSIVE')}`,
    );
    expect(linkSample(target, linkReadings(series), 42, 'scrape')).to.deep.equal({
      link: 'edge/a--b',
      state: 'PASSIVE',
      secretKeyRate: 5000,
      storedKeys: 1000,
      capacityKeys: 3906,
      keyAvailability: 0.256,
      time: 42,
      source: 'scrape',
    });
  });

  it('matches a link from either end and ignores other links', () => {
    const series = parseExposition(`${end('b', 'a', 100_000, 'ACTIVE')}\n${end('a', 'c', 900_000, 'OFF')}`);
    const sample = linkSample(target, linkReadings(series), 1, 'prometheus');
    expect(sample).to.include({ state: 'ACTIVE', keyAvailability: 0.1 });
    const other: LinkTarget = { link: 'edge/b--c', ends: [{ kmeId: 'b' }, { kmeId: 'c' }] };
    expect(linkSample(other, linkReadings(series), 1, 'prometheus')).to.equal(undefined);
  });
});
