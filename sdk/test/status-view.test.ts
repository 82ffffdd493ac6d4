import type { AppContext, MecHost, QkdLink } from '@mecqkd/crds';
import { expect } from 'chai';
import { formatStatus } from '../src/observe/status-view.ts';

const cond = [
  { type: 'Ready', status: 'True', reason: 'x', message: '', lastTransitionTime: '2026-12-01T10:00:00Z' },
];

describe('mecqkd status', () => {
  it('spells out hosts, links and contexts with units and percents', () => {
    const host = {
      metadata: { name: 'host-1' },
      status: {
        conditions: cond,
        load: 0.54389,
        keyAvailability: 0.987,
        contextCount: 2,
        deployedActions: ['mecqkd-cardio-risk-1a2b'],
      },
    } as unknown as MecHost;
    const link = {
      metadata: { name: 'client-relay' },
      spec: { source: { kmeId: 'KME_CLIENT' }, target: { kmeId: 'KME_RELAY' } },
      status: {
        state: 'ACTIVE',
        secretKeyRate: 54389.44917095899,
        storedKeys: 3900,
        capacityKeys: 3906,
        keyAvailability: 0.9985,
      },
    } as unknown as QkdLink;
    const ctx = {
      metadata: { name: 'c0de0000000000000000000000000001' },
      spec: { appName: 'cardio-risk', associateDevAppId: 'ward-7-tablet-1' },
      status: {
        phase: 'Placed',
        host: 'host-2',
        keyPath: ['KME_CLIENT', 'KME_RELAY', 'KME_HOST_2'],
        migrations: [{}],
      },
    } as unknown as AppContext;
    const text = formatStatus({ hosts: [host], links: [link], contexts: [ctx] });
    expect(text).to.match(/host-1\s+yes\s+54%\s+99%\s+2\s+mecqkd-cardio-risk-1a2b/);
    expect(text).to.match(
      /client-relay\s+KME_CLIENT → KME_RELAY\s+ACTIVE\s+54\.4 kb\/s\s+3900 of 3906\s+100%/,
    );
    expect(text).to.match(
      /c0de0+1\s+cardio-risk\s+ward-7-tablet-1\s+Placed\s+host-2\s+KME_CLIENT → KME_RELAY → KME_HOST_2\s+1/,
    );
    expect(text).to.not.contain('54389.4');
  });

  it('shows a host without telemetry yet', () => {
    const text = formatStatus({
      hosts: [{ metadata: { name: 'h' } } as unknown as MecHost],
      links: [],
      contexts: [],
    });
    expect(text).to.match(/h\s+no\s+-\s+-\s+0\s+-/);
    expect(text).to.contain('QKD links (0)');
  });
});
