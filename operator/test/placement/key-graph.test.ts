import { expect } from 'chai';
import {
  buildKeyGraph,
  keyHeadroom,
  keyPaths,
  linkCarries,
  linkUsable,
} from '../../src/placement/key-graph.ts';
import { seededRng } from '../../src/placement/rng.ts';
import { link, randomDemand, randomInstance } from './fixtures.ts';
import { allPaths, carries } from './reference.ts';

const bottleneck = (ls: { keyAvailability: number }[]) => Math.min(1, ...ls.map((l) => l.keyAvailability));

describe('placement: key paths', () => {
  it('uses links in both directions and prefers fewer hops over higher availability', () => {
    const graph = buildKeyGraph([
      link('host', 'client', { keyAvailability: 0.3 }),
      link('client', 'relay', { keyAvailability: 1 }),
      link('relay', 'host', { keyAvailability: 1 }),
    ]);
    const path = keyPaths(graph, 'client', linkUsable).get('host');
    expect(path?.kmes).to.deep.equal(['client', 'host']);
    expect(path?.keyAvailability).to.equal(0.3);
  });

  it('among paths of equal length takes the highest bottleneck availability', () => {
    const graph = buildKeyGraph([
      link('client', 'r1', { keyAvailability: 0.9 }),
      link('r1', 'host', { keyAvailability: 0.2 }),
      link('client', 'r2', { keyAvailability: 0.5 }),
      link('r2', 'host', { keyAvailability: 0.6 }),
    ]);
    const path = keyPaths(graph, 'client', linkUsable).get('host');
    expect(path?.kmes).to.deep.equal(['client', 'r2', 'host']);
    expect(path?.keyAvailability).to.equal(0.5);
  });

  it('skips links that are not ACTIVE or not fresh, and stops at maxHops', () => {
    const chain = [
      link('client', 'a'),
      link('a', 'b'),
      link('b', 'c'),
      link('c', 'host'),
      link('client', 'host', { state: 'PASSIVE' }),
      link('client', 'x', { fresh: false }),
      link('x', 'host'),
    ];
    const graph = buildKeyGraph(chain);
    expect(keyPaths(graph, 'client', linkUsable, 3).get('host')).to.equal(undefined);
    expect(keyPaths(graph, 'client', linkUsable, 4).get('host')?.kmes).to.deep.equal([
      'client',
      'a',
      'b',
      'c',
      'host',
    ]);
  });

  it('a link carries a demand only with enough availability and spare key rate', () => {
    const d = { minKeyAvailability: 0.5, keyRate: 1000 };
    expect(
      linkCarries(link('a', 'b', { keyAvailability: 0.5, secretKeyRate: 2000, committedKeyRate: 1000 }), d),
    ).to.be.true;
    expect(linkCarries(link('a', 'b', { keyAvailability: 0.49 }), d)).to.be.false;
    expect(linkCarries(link('a', 'b', { secretKeyRate: 2000, committedKeyRate: 1001 }), d)).to.be.false;
    expect(linkCarries(link('a', 'b', { keyAvailability: 0.55 }), d, 0.1)).to.be.false;
  });

  it("a path's key headroom is its tightest hop's spare share of its key rate, after the context's own", () => {
    const graph = buildKeyGraph([
      link('c', 'r', { secretKeyRate: 10_000, committedKeyRate: 2000 }),
      link('r', 'h', { secretKeyRate: 4000, committedKeyRate: 1000 }),
      link('r', 'x', { secretKeyRate: 0 }),
    ]);
    // 1 − (2000 + 1000)/10 000 = 0.7 on the first hop, 1 − (1000 + 1000)/4000 = 0.5 on the second
    expect(keyHeadroom(graph, { links: [0, 1] }, 1000)).to.be.closeTo(0.5, 1e-12);
    expect(keyHeadroom(graph, { links: [0] }, 0)).to.be.closeTo(0.8, 1e-12);
    expect(keyHeadroom(graph, { links: [1] }, 5000), 'a hop it would over-commit').to.equal(0);
    expect(keyHeadroom(graph, { links: [2] }, 0), 'a hop that makes no key').to.equal(0);
    expect(keyHeadroom(graph, { links: [] }, 1000), 'no hop at all').to.equal(1);
  });

  it('client and host on one KME need no link', () => {
    const path = keyPaths(buildKeyGraph([]), 'kme', linkUsable).get('kme');
    expect(path?.links).to.have.length(0);
  });

  it('agrees with exhaustive path enumeration on random graphs', () => {
    const rng = seededRng(7);
    for (let round = 0; round < 300; round++) {
      const { hosts, links } = randomInstance(rng, { relays: 3 });
      const d = randomDemand(rng);
      const found = keyPaths(buildKeyGraph(links), 'kme-client', (l) => linkCarries(l, d), 3);
      for (const h of hosts) {
        const all = allPaths(links, 'kme-client', h.kmeId, 3, carries(d));
        const path = found.get(h.kmeId);
        expect(Boolean(path), `round ${round} ${h.name}`).to.equal(all.length > 0);
        if (!path) continue;
        const hops = Math.min(...all.map((r) => r.links.length));
        expect(path.links.length).to.equal(hops);
        const best = Math.max(...all.filter((r) => r.links.length === hops).map((r) => bottleneck(r.links)));
        expect(path.keyAvailability).to.equal(best);
      }
    }
  });
});
