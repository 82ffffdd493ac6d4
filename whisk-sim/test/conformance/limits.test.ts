// Conformance: per-namespace throttles (429 texts). Needs a namespace with low limits: whisk-sim's is
// set up by the suite; on a real OpenWhisk set __OW_THROTTLED_API_KEY (see whisk-sim/README.md).
import { expect } from 'chai';
import { code, waitForActivation } from './fixtures.ts';
import { nsPath, raw } from './http.ts';
import { type Client, client, getTarget, type Target, uniqueName } from './target.ts';

describe('conformance: throttling', () => {
  let t: Target;
  let ow: Client;
  const name = uniqueName('throttled');
  const running: string[] = [];

  before(async function () {
    t = await getTarget();
    if (!t.throttled) this.skip();
    ow = client(t, t.throttled?.apiKey);
    await ow.actions.update({ name, action: code.sleep });
  });
  after(async () => {
    if (t?.throttled) await ow.actions.delete({ name }).catch(() => undefined);
  });

  it('answers 429 "Too many concurrent requests in flight" over the concurrency limit', async () => {
    const { concurrent } = t.throttled as NonNullable<Target['throttled']>;
    const path = nsPath({ ...t, namespace: '_' }, `actions/${name}`);
    const auth = t.throttled?.apiKey ?? null;
    const started = await Promise.all(
      Array.from({ length: concurrent }, () => raw(t, 'POST', path, { auth, body: { ms: 1500 } })),
    );
    expect(started.map((r) => r.status)).to.deep.equal(Array(concurrent).fill(202));
    running.push(...started.map((r) => (r.json as { activationId: string }).activationId));
    const rejected = await raw(t, 'POST', path, { auth, body: { ms: 1 } });
    expect(rejected.status).to.equal(429);
    expect((rejected.json as { error: string }).error).to.equal(
      `Too many concurrent requests in flight (count: ${concurrent}, allowed: ${concurrent}).`,
    );
  });

  it('answers 429 "Too many requests in the last minute" over the per-minute limit', async () => {
    const { perMinute } = t.throttled as NonNullable<Target['throttled']>;
    for (const id of running) await waitForActivation(ow, id); // no longer in flight
    const statuses: number[] = [];
    let last: { error?: string } = {};
    for (let i = 0; i < perMinute + 1; i++) {
      const res = await raw(t, 'POST', nsPath({ ...t, namespace: '_' }, `actions/${name}?blocking=true`), {
        auth: t.throttled?.apiKey ?? null,
        body: { ms: 1 },
      });
      statuses.push(res.status);
      last = res.json as { error?: string };
    }
    expect(statuses.at(-1)).to.equal(429);
    expect(last.error).to.match(/^Too many requests in the last minute \(count: \d+, allowed: \d+\)\.$/);
  });
});
