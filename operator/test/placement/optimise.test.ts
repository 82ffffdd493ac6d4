import { expect } from 'chai';
import { optimise, withCommittedKeyRates } from '../../src/placement/optimise.ts';
import { DEFAULT_WEIGHTS } from '../../src/placement/score.ts';
import type {
  HostView,
  LinkView,
  Migration,
  OptimiseOptions,
  PlacedContext,
} from '../../src/placement/types.ts';
import { demand, host, link } from './fixtures.ts';

const NOW = 1_000_000;
const options = (over: Partial<OptimiseOptions> = {}): OptimiseOptions => ({
  maxMigrationsPerRound: 10,
  minScoreGain: 0.05,
  cooldownMs: 60_000,
  now: NOW,
  weights: DEFAULT_WEIGHTS,
  ...over,
});

const placed = (context: string, at: string, over: Partial<PlacedContext> = {}): PlacedContext => ({
  context,
  host: at,
  clientKmeId: 'kme-client',
  demand: demand({ loadPerContext: 0.1 }),
  placedAt: 0,
  ...over,
});

const direct = (hosts: HostView[], over: Partial<LinkView> = {}) =>
  hosts.map((h) => link('kme-client', h.kmeId, over));

/** What the reconciler does after a round: move the context, its load and its key rate. */
function apply(migrations: Migration[], contexts: PlacedContext[], hosts: HostView[], now: number) {
  for (const m of migrations) {
    const c = contexts.find((x) => x.context === m.context)!;
    const from = hosts.find((h) => h.name === m.from)!;
    const to = hosts.find((h) => h.name === m.to)!;
    from.load -= c.demand.loadPerContext;
    from.contexts -= 1;
    to.load += c.demand.loadPerContext;
    to.contexts += 1;
    c.host = m.to;
    c.path = m.path;
    c.placedAt = now;
  }
}

describe('placement: optimise', () => {
  it('moves just enough contexts off an overloaded host, heaviest first', () => {
    const hosts = [host('h1', { load: 0.95, contexts: 3 }), host('h2', { load: 0.1 })];
    const contexts = [
      placed('a', 'h1'),
      placed('b', 'h1', { demand: demand({ loadPerContext: 0.2 }) }),
      placed('c', 'h1'),
    ];
    const moves = optimise(contexts, hosts, direct(hosts), options());
    expect(moves).to.deep.equal([
      { context: 'b', from: 'h1', to: 'h2', path: ['kme-client', 'kme-h2'], reason: 'HostOverloaded' },
    ]);
  });

  it('respects the cap, the cool-down and the score gain', () => {
    const hosts = [host('h1', { load: 1, contexts: 5 }), host('h2'), host('h3')];
    const contexts = ['a', 'b', 'c', 'd', 'e'].map((c) => placed(c, 'h1'));
    expect(optimise(contexts, hosts, direct(hosts), options({ maxMigrationsPerRound: 2 }))).to.have.length(2);
    const recent = contexts.map((c) => ({ ...c, placedAt: NOW - 1000 }));
    expect(optimise(recent, hosts, direct(hosts), options())).to.have.length(0);
    expect(optimise(contexts, hosts, direct(hosts), options({ minScoreGain: 0.9 }))).to.have.length(0);
  });

  it('moves contexts off a host that is not ready, and off a drained key path', () => {
    const hosts = [host('h1', { ready: false, contexts: 1 }), host('h2', { contexts: 1 }), host('h3')];
    const links = [
      link('kme-client', 'kme-h1'),
      link('kme-client', 'kme-h2', { keyAvailability: 0.05 }),
      link('kme-client', 'kme-h3'),
    ];
    const moves = optimise([placed('a', 'h1'), placed('b', 'h2')], hosts, links, options());
    expect(moves.map((m) => [m.context, m.to, m.reason])).to.deep.equal([
      ['a', 'h3', 'HostNotReady'],
      ['b', 'h3', 'KeysLow'],
    ]);
  });

  it('never picks a target that would end within the load margin', () => {
    const hosts = [host('h1', { load: 0.85, contexts: 1 }), host('h2', { load: 0.65 })];
    const contexts = [placed('a', 'h1', { demand: demand({ loadPerContext: 0.1 }) })];
    // h2 would end at 0.75: under max 0.8 but not under 0.8 − 0.1.
    expect(optimise(contexts, hosts, direct(hosts), options())).to.deep.equal([]);
    expect(optimise(contexts, hosts, direct(hosts), options({ loadMargin: 0 }))).to.have.length(1);
  });

  it('judges a target with the moved context released from shared links', () => {
    // Both hosts hang off one relay; the shared first hop only has room for one context.
    const hosts = [host('h1', { ready: false, contexts: 1 }), host('h2')];
    const links = withCommittedKeyRates(
      [
        link('kme-client', 'relay', { secretKeyRate: 1500 }),
        link('relay', 'kme-h1'),
        link('relay', 'kme-h2'),
      ],
      [placed('a', 'h1')],
      hosts,
    );
    expect(links[0]!.committedKeyRate).to.equal(1000);
    const moves = optimise([placed('a', 'h1')], hosts, links, options());
    expect(moves).to.have.length(1);
    expect(moves[0]!.path).to.deep.equal(['kme-client', 'relay', 'kme-h2']);
  });

  it('re-evaluates a saturated shared hop after each move', () => {
    // The client's only hop has room for exactly the two contexts already on it.
    const hosts = [
      host('h1', { ready: false, contexts: 1 }),
      host('h2', { ready: false, contexts: 1 }),
      host('h3'),
    ];
    const contexts = [placed('a', 'h1'), placed('b', 'h2')];
    const links = withCommittedKeyRates(
      [link('kme-client', 'relay', { secretKeyRate: 2000 }), ...hosts.map((h) => link('relay', h.kmeId))],
      contexts,
      hosts,
    );
    const moves = optimise(contexts, hosts, links, options());
    expect(moves.map((m) => [m.context, m.to])).to.deep.equal([
      ['a', 'h3'],
      ['b', 'h3'],
    ]);
  });

  /** Rounds of optimisation while external load swings between two hosts; moves per context. */
  function alternate(high: number, low: number, over: Partial<OptimiseOptions>, rounds = 20) {
    const hosts = [host('h1', { contexts: 4 }), host('h2', { contexts: 4 })];
    const contexts = [
      ...['a', 'b', 'c', 'd'].map((c) => placed(c, 'h1', { demand: demand({ loadPerContext: 0.05 }) })),
      ...['e', 'f', 'g', 'h'].map((c) => placed(c, 'h2', { demand: demand({ loadPerContext: 0.05 }) })),
    ];
    const moved = new Map<string, number>();
    for (let round = 0; round < rounds; round++) {
      const now = NOW + round * 10_000;
      const own = (h: string) => contexts.filter((c) => c.host === h).length * 0.05;
      hosts[0]!.load = (round % 2 ? low : high) + own('h1');
      hosts[1]!.load = (round % 2 ? high : low) + own('h2');
      const moves = optimise(contexts, hosts, direct(hosts), options({ now, ...over }));
      for (const m of moves) moved.set(m.context, (moved.get(m.context) ?? 0) + 1);
      apply(moves, contexts, hosts, now);
    }
    return Math.max(0, ...moved.values());
  }

  it('does not ping-pong contexts when load alternates around the threshold (hysteresis)', () => {
    // Hosts swing between 0.85 and 0.72 with their contexts' 0.2: a move would land at 0.77, within the margin.
    expect(alternate(0.65, 0.52, { cooldownMs: 0 })).to.equal(0);
    // Without the margin the same swing moves contexts back and forth.
    expect(alternate(0.65, 0.52, { cooldownMs: 0, loadMargin: 0, minScoreGain: 0 })).to.be.above(1);
  });

  it('moves a context at most once per cool-down even under large swings', () => {
    // Rounds are 10 s apart: a 60 s cool-down allows a context to move at most every 6th round.
    expect(alternate(0.75, 0, { cooldownMs: 60_000 }, 12)).to.be.at.most(2);
    expect(alternate(0.75, 0, { cooldownMs: 0 }, 12)).to.be.above(2);
  });

  it('rejects invalid options', () => {
    expect(() => optimise([], [], [], options({ maxMigrationsPerRound: -1 }))).to.throw(
      /maxMigrationsPerRound/,
    );
  });
});
