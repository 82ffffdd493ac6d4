import type { AppContext } from '@mecqkd/crds';
import { registry } from '@mecqkd/kube/metrics';
import { expect } from 'chai';
import { countContexts, reportFromCaches } from '../../src/controllers/cache-metrics.ts';

const ctx = (phase: string | undefined, host?: string): AppContext =>
  ({
    metadata: { name: 'x', namespace: 'ns' },
    spec: {},
    ...(phase ? { status: { phase, ...(host ? { host } : {}) } } : {}),
  }) as unknown as AppContext;

describe('cache metrics', () => {
  it('counts contexts per namespace, phase and host; a context without status is Pending', () => {
    const counts = countContexts([
      ctx('Placed', 'h1'),
      ctx('Placed', 'h1'),
      ctx('Placed', 'h2'),
      ctx(undefined),
    ]);
    expect(Object.fromEntries(counts)).to.deep.equal({
      '["ns","Placed","h1"]': 2,
      '["ns","Placed","h2"]': 1,
      '["ns","Pending",""]': 1,
    });
  });

  it('reports what the caches hold at scrape time, and nothing once the leader stops', async () => {
    const contexts = [ctx('Placed', 'h1')];
    const stop = reportFromCaches({ contexts: () => contexts, hosts: () => [] });
    contexts.push(ctx('Migrating', 'h2'));
    const text = await registry.metrics();
    expect(text).to.include('mecqkd_appcontexts{namespace="ns",phase="Placed",host="h1"} 1');
    expect(text).to.include('mecqkd_appcontexts{namespace="ns",phase="Migrating",host="h2"} 1');
    stop();
    expect(await registry.metrics()).to.not.match(/^mecqkd_appcontexts\{/m);
  });
});
