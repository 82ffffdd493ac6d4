import { expect } from 'chai';
import { placeBatch, placeContext } from '../../src/placement/place.ts';
import { seededRng } from '../../src/placement/rng.ts';
import { DEFAULT_WEIGHTS } from '../../src/placement/score.ts';
import type { HostView, LinkView, PlacementDecision, PlacementRequest } from '../../src/placement/types.ts';
import { demand, host, link, request } from './fixtures.ts';

const direct = (hosts: HostView[], over: Partial<LinkView> = {}) =>
  hosts.map((h) => link('kme-client', h.kmeId, over));

function place(
  r: PlacementRequest,
  hosts: HostView[],
  links: LinkView[],
  policy: 'best' | 'weighted-random' = 'best',
) {
  return placeContext(r, hosts, links, DEFAULT_WEIGHTS, policy, seededRng(1));
}

function infeasible(d: PlacementDecision) {
  if (d.kind !== 'infeasible') throw new Error(`expected infeasible, got ${JSON.stringify(d)}`);
  return d;
}

describe('placement: placeContext', () => {
  it('picks the least loaded host under best', () => {
    const hosts = [host('h1', { load: 0.5 }), host('h2', { load: 0.1 }), host('h3', { load: 0.3 })];
    const d = place(request('c1'), hosts, direct(hosts));
    expect(d).to.include({ kind: 'placed', host: 'h2' });
    expect(d.kind === 'placed' && d.path).to.deep.equal(['kme-client', 'kme-h2']);
  });

  it('breaks ties by host name whatever the input order', () => {
    const hosts = [host('h3'), host('h1'), host('h2')];
    expect(place(request('c'), hosts, direct(hosts))).to.include({ host: 'h1' });
  });

  it('prefers higher key availability and shorter paths when loads are equal', () => {
    const hosts = [host('h1'), host('h2'), host('h3')];
    const links = [
      link('kme-client', 'kme-h1', { keyAvailability: 0.4 }),
      link('kme-client', 'kme-h2', { keyAvailability: 0.9 }),
      link('kme-client', 'relay', { keyAvailability: 0.9 }),
      link('relay', 'kme-h3', { keyAvailability: 0.9 }),
    ];
    expect(place(request('c'), hosts, links)).to.include({ host: 'h2' });
  });

  it('names the furthest failed check as the reason and lists hosts in the message', () => {
    const hosts = [
      host('h1', { ready: false }),
      host('h2', { labels: { zone: 'b' } }),
      host('h3', { labels: { zone: 'a' }, load: 0.79 }),
    ];
    const r = request('c', { demand: demand({ hostSelector: { zone: 'a' } }) });
    const d = infeasible(place(r, hosts, direct(hosts)));
    expect(d.reason).to.equal('HostsOverloaded');
    expect(d.message).to.match(/h1: not ready/);
    expect(d.message).to.match(/h2: label zone=b, selector wants a/);
    expect(d.message).to.match(/h3: load 0.79 \+ 0.05 > 0.8/);
  });

  it('gives a reason for each kind of infeasibility', () => {
    const h = [host('h1', { location: { countryCode: 'IT' }, maxContexts: 2, contexts: 2 })];
    expect(infeasible(place(request('c'), [], [])).reason).to.equal('NoReadyHost');
    expect(infeasible(place(request('c'), [{ ...h[0]!, ready: false }], direct(h))).reason).to.equal(
      'NoReadyHost',
    );
    expect(
      infeasible(place(request('c', { demand: demand({ hostSelector: { gpu: 'yes' } }) }), h, direct(h)))
        .reason,
    ).to.equal('NoHostMatchesSelector');
    expect(
      infeasible(place(request('c', { requestedLocation: { countryCode: 'FR' } }), h, direct(h))).reason,
    ).to.equal('NoHostInLocation');
    expect(infeasible(place(request('c'), h, direct(h))).reason).to.equal('HostsFull');
    const open = [{ ...h[0]!, contexts: 0 }];
    expect(infeasible(place(request('c'), open, direct(open, { state: 'OFF' }))).reason).to.equal(
      'NoKeyPath',
    );
    const low = infeasible(place(request('c'), open, direct(open, { keyAvailability: 0.1 })));
    expect(low.reason).to.equal('KeysLow');
    expect(low.message).to.match(/key availability 0.1 \(min 0.2\)/);
  });

  it('weighted-random chooses in proportion to score, reproducibly from a seed', () => {
    const hosts = [host('h1', { load: 0 }), host('h2', { load: 0.7 })];
    const counts = { h1: 0, h2: 0 } as Record<string, number>;
    const rng = seededRng(42);
    for (let i = 0; i < 4000; i++) {
      const d = placeContext(request(`c${i}`), hosts, direct(hosts), DEFAULT_WEIGHTS, 'weighted-random', rng);
      if (d.kind === 'placed') counts[d.host]! += 1;
    }
    // Scores: h1 (load 0.05) ≈ 0.949, h2 (load 0.75) ≈ 0.833 → h1 share ≈ 0.533.
    const share = counts.h1! / 4000;
    expect(share).to.be.within(0.5, 0.57);
    const again = placeContext(
      request('x'),
      hosts,
      direct(hosts),
      DEFAULT_WEIGHTS,
      'weighted-random',
      seededRng(9),
    );
    const same = placeContext(
      request('x'),
      hosts,
      direct(hosts),
      DEFAULT_WEIGHTS,
      'weighted-random',
      seededRng(9),
    );
    expect(again).to.deep.equal(same);
  });

  it('rejects malformed views and requests, naming the object', () => {
    const hosts = [host('h1', { load: Number.NaN })];
    expect(() => place(request('c'), hosts, direct(hosts))).to.throw(/invalid host view h1/);
    const ok = [host('h1')];
    expect(() => place(request('c'), ok, direct(ok, { keyAvailability: 2 }))).to.throw(
      /invalid link view kme-client--kme-h1/,
    );
    expect(() => place(request('c9', { demand: demand({ keyRate: -1 }) }), ok, direct(ok))).to.throw(
      /invalid placement request c9/,
    );
  });

  it('between hosts alike in load and stored key, prefers the path that keeps more of its key rate spare', () => {
    const hosts = [host('h1'), host('h2')];
    // h1's hop is busier (a disturbance that cuts its rate over-commits it first): h2, whose name loses ties
    const links = [
      link('kme-client', 'kme-h1', { secretKeyRate: 10_000, committedKeyRate: 6000 }),
      link('kme-client', 'kme-h2', { secretKeyRate: 10_000, committedKeyRate: 2000 }),
    ];
    expect(place(request('c'), hosts, links)).to.include({ kind: 'placed', host: 'h2' });
  });

  it('rejects invalid weights', () => {
    const hosts = [host('h1')];
    const zero = { load: 0, keyAvailability: 0, pathLength: 0, contexts: 0, keyHeadroom: 0 };
    expect(() => placeContext(request('c'), hosts, direct(hosts), zero, 'best', seededRng(1))).to.throw(
      /at least one score weight/,
    );
  });
});

describe('placement: placeBatch', () => {
  it('charges each decision so a burst spreads over hosts', () => {
    const hosts = [host('h1'), host('h2'), host('h3')];
    const decisions = placeBatch(
      Array.from({ length: 30 }, (_, i) => request(`c${i}`)),
      hosts,
      direct(hosts),
      DEFAULT_WEIGHTS,
      'best',
      seededRng(1),
    );
    const per = new Map<string, number>();
    for (const d of decisions) if (d.kind === 'placed') per.set(d.host, (per.get(d.host) ?? 0) + 1);
    expect([...per.values()].sort()).to.deep.equal([10, 10, 10]);
    expect(hosts.every((h) => h.load === 0 && h.contexts === 0)).to.be.true;
  });

  it('stops at the load limit', () => {
    const hosts = [host('h1', { load: 0.5 })];
    const decisions = placeBatch(
      Array.from({ length: 10 }, (_, i) => request(`c${i}`, { demand: demand({ loadPerContext: 0.1 }) })),
      hosts,
      direct(hosts),
      DEFAULT_WEIGHTS,
      'best',
      seededRng(1),
    );
    expect(decisions.filter((d) => d.kind === 'placed')).to.have.length(3);
    expect(decisions.at(-1)).to.include({ kind: 'infeasible', reason: 'HostsOverloaded' });
  });

  it('charges a relayed context on every hop', () => {
    // The relay's second hop has room for 3 contexts of 1000 b/s, the first for 10: the second hop binds.
    const hosts = [host('h1')];
    const links = [
      link('kme-client', 'relay', { secretKeyRate: 10_000 }),
      link('relay', 'kme-h1', { secretKeyRate: 3_500 }),
    ];
    const decisions = placeBatch(
      Array.from({ length: 5 }, (_, i) => request(`c${i}`, { demand: demand({ loadPerContext: 0 }) })),
      hosts,
      links,
      DEFAULT_WEIGHTS,
      'best',
      seededRng(1),
    );
    expect(decisions.map((d) => d.kind)).to.deep.equal([
      'placed',
      'placed',
      'placed',
      'infeasible',
      'infeasible',
    ]);
    expect(decisions[3]).to.include({ reason: 'KeysLow' });
    expect(links[1]!.committedKeyRate).to.equal(0);
  });

  it('places 10,000 contexts over 50 hosts, spreading them by score (its speed is in make bench)', () => {
    const hosts = Array.from({ length: 50 }, (_, i) => host(`h${i}`, { load: (i % 10) / 20 }));
    const links = [
      ...hosts.map((h, i) => link(i % 2 ? 'kme-client' : 'relay', h.kmeId, { secretKeyRate: 1e9 })),
      link('kme-client', 'relay', { secretKeyRate: 1e9 }),
    ];
    const requests = Array.from({ length: 10_000 }, (_, i) =>
      request(`c${i}`, { demand: demand({ loadPerContext: 0.0001, maxLoad: 1 }) }),
    );
    const decisions = placeBatch(requests, hosts, links, DEFAULT_WEIGHTS, 'best', seededRng(1));
    expect(decisions.every((d) => d.kind === 'placed')).to.be.true;
    const perHost = new Map<string, number>();
    for (const d of decisions) if (d.kind === 'placed') perHost.set(d.host, (perHost.get(d.host) ?? 0) + 1);
    // lower load scores higher: the idle hosts all take contexts, the busiest take none
    hosts.forEach((h, i) => {
      if (i % 10 === 0) expect(perHost.get(h.name) ?? 0, h.name).to.be.greaterThan(0);
      if (i % 10 >= 6) expect(perHost.get(h.name) ?? 0, h.name).to.equal(0);
    });
  });
});
