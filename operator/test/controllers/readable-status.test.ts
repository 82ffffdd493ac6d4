// The status fields behind the `kubectl get mec` columns: whole percents and a key rate with its unit.
import { expect } from 'chai';
import { mecHostStatus } from '../../src/controllers/mechost.ts';
import { combineEnds } from '../../src/controllers/qkdlink.ts';
import { host } from './fixtures.ts';

describe('readable status columns', () => {
  it('a QKD link states its key rate with a unit and its availability in percent', () => {
    const end = {
      localKmeId: 'A',
      remoteKmeId: 'B',
      status: 'ACTIVE' as const,
      skr: 54389.44917095899,
      storedKeyCount: 700,
      maxKeyCount: 1000,
      keyAvailability: 0.70312,
    };
    const s = combineEnds(end, { ...end, skr: 60_000, keyAvailability: 0.9 });
    expect(s).to.include({
      keyRate: '54.4 kb/s',
      keyAvailabilityPercent: 70,
      secretKeyRate: 54389.44917095899,
    });
  });

  it('a MEC host states load and key availability in percent', () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    const s = mecHostStatus(
      host('h1', 'KME_H1'),
      {
        ready: { ok: true, reason: 'Reachable', message: 'ok' },
        sample: { host: 'ns/h1', load: 0.54389, time: now, source: 'scrape' },
        keyAvailability: 0.987,
        contextCount: 2,
        deployedActions: [],
      },
      now,
      10_000,
    );
    expect(s).to.include({
      load: 0.5439,
      loadPercent: 54,
      keyAvailability: 0.987,
      keyAvailabilityPercent: 99,
    });
  });
});
