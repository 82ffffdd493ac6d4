import { expect } from 'chai';
import { parseConfig } from '../src/config.ts';
import { createTopology } from '../src/topology.ts';

const tls = { cert: 'c', key: 'k', ca: 'a' };
const seed = '1'.repeat(64);

describe('topology', () => {
  const topology = createTopology(
    parseConfig(
      {
        kmes: [
          {
            id: 'a',
            port: 1,
            tls,
            saes: [{ id: 'sae-a' }, { id: 'sae-app', certCommonName: 'app.example' }],
          },
          { id: 'b', port: 2, tls },
          { id: 'c', port: 3, tls },
          { id: 'd', port: 4, tls, saes: [{ id: 'sae-d' }] },
          { id: 'island', port: 5, tls },
        ],
        links: [
          { id: 'ab', kmes: ['a', 'b'], seed, skrBitsPerSecond: 1 },
          { id: 'bc', kmes: ['b', 'c'], seed, skrBitsPerSecond: 1 },
          { id: 'cd', kmes: ['c', 'd'], seed, skrBitsPerSecond: 1 },
          { id: 'bd', kmes: ['b', 'd'], seed, skrBitsPerSecond: 1 },
        ],
      },
      '/',
    ),
  );

  it('routes over the fewest hops, and not at all to an unlinked KME', () => {
    expect(topology.route('a', 'd')).to.deep.equal(['a', 'b', 'd']);
    expect(topology.route('d', 'a')).to.deep.equal(['d', 'b', 'a']);
    expect(topology.route('a', 'island')).to.equal(undefined);
    expect(topology.linkBetween('d', 'c')?.id).to.equal('cd');
  });

  it('maps certificate names to SAEs of the answering KME only', () => {
    expect(topology.saeForCommonName('a', 'sae-a')).to.equal('sae-a');
    expect(topology.saeForCommonName('a', 'app.example')).to.equal('sae-app');
    expect(topology.saeForCommonName('a', 'sae-app')).to.equal(undefined);
    expect(topology.saeForCommonName('d', 'sae-a')).to.equal(undefined);
    expect(topology.kmeOfSae('sae-d')).to.equal('d');
  });
});
