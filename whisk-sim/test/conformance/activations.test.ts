// Conformance: activation records, results, logs and listing.
import { expect } from 'chai';
import { code, createTracker, waitForActivation } from './fixtures.ts';
import { nsPath, raw } from './http.ts';
import { type Client, client, getTarget, type Target, uniqueName } from './target.ts';

const LOG_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z\s+(stdout|stderr): /;

describe('conformance: activations', () => {
  let t: Target;
  let ow: Client;
  let actions: ReturnType<typeof createTracker>;
  let name: string;
  const ids: string[] = [];

  before(async () => {
    t = await getTarget();
    ow = client(t);
    actions = createTracker(ow);
    name = uniqueName('acts');
    await actions.deploy(name, code.hello);
    for (const who of ['a', 'b', 'c']) {
      const { activationId } = await ow.actions.invoke({ name, params: { name: who } });
      await waitForActivation(ow, activationId);
      ids.push(activationId);
    }
  });
  after(() => actions?.cleanup());

  it('stores the full record with logs in OpenWhisk line format', async () => {
    const record = (await ow.activations.get({ name: ids[0] as string })) as unknown as Record<
      string,
      unknown
    >;
    expect(record).to.include({ name, activationId: ids[0] });
    expect(record).to.have.keys([
      'namespace',
      'name',
      'subject',
      'activationId',
      'start',
      'end',
      'duration',
      'response',
      'logs',
      'version',
      'publish',
      'annotations',
    ]);
    const logs = record.logs as string[];
    expect(logs).to.have.length(2);
    for (const line of logs) expect(line).to.match(LOG_LINE);
    expect(logs.some((l) => l.endsWith('stdout: hello a'))).to.equal(true);
    expect(logs.some((l) => l.endsWith('stderr: to stderr'))).to.equal(true);
  });

  it('serves /result and /logs', async () => {
    const result = await ow.activations.result({ name: ids[1] as string });
    expect(result).to.deep.include({ status: 'success', success: true, result: { greeting: 'Hello b' } });
    expect((result as unknown as { size: number }).size).to.be.a('number');
    const logs = await ow.activations.logs({ name: ids[1] as string });
    expect(logs.logs).to.have.length(2);
  });

  it('gives each activation of a warm container exactly its own log lines, none when it printed none', async () => {
    const mixed = uniqueName('logs');
    await actions.deploy(mixed, 'function main(p) { if (p.say) console.log("said", p.say); return {}; }');
    const logsOf = async (params: Record<string, unknown>) => {
      const { activationId } = await ow.actions.invoke({ name: mixed, params });
      const record = (await waitForActivation(ow, activationId)) as unknown as { logs: string[] };
      return record.logs.map((l) => l.replace(LOG_LINE, ''));
    };
    expect(await logsOf({ say: 'one' })).to.deep.equal(['said one']);
    expect(await logsOf({})).to.deep.equal([]);
    expect(await logsOf({ say: 'two' })).to.deep.equal(['said two']);
    expect(await logsOf({})).to.deep.equal([]);
  });

  it('lists summaries newest first, filtered by name, with limit, skip, count and docs', async () => {
    const listed = (await ow.activations.list({ name, limit: 10 })) as unknown as Record<string, unknown>[];
    expect(listed.map((a) => a.activationId)).to.deep.equal([...ids].reverse());
    expect(listed[0]).to.include({ name, statusCode: 0 });
    expect(listed[0]).to.not.have.property('logs');
    const skipped = (await ow.activations.list({ name, limit: 1, skip: 1 })) as unknown as Record<
      string,
      unknown
    >[];
    expect(skipped.map((a) => a.activationId)).to.deep.equal([ids[1]]);
    const count = (await ow.activations.list({ name, count: true } as never)) as unknown as {
      activations: number;
    };
    expect(count.activations).to.equal(3);
    const docs = (await ow.activations.list({ name, limit: 1, docs: true } as never)) as unknown as Record<
      string,
      unknown
    >[];
    expect(docs[0]).to.have.property('logs');
    expect(docs[0]).to.have.property('response');
  });

  it('filters by since/upto on start', async () => {
    const first = (await ow.activations.get({ name: ids[0] as string })) as unknown as { start: number };
    const last = (await ow.activations.get({ name: ids[2] as string })) as unknown as { start: number };
    const res = await raw(
      t,
      'GET',
      nsPath(t, `activations?name=${name}&since=${first.start}&upto=${last.start}`),
    );
    expect((res.json as unknown[]).length).to.equal(3);
    const after = await raw(t, 'GET', nsPath(t, `activations?name=${name}&since=${last.start + 1}`));
    expect(after.json).to.deep.equal([]);
  });

  it('rejects docs with count, malformed ids, and answers 404 for unknown ids', async () => {
    const both = await raw(t, 'GET', nsPath(t, 'activations?docs=true&count=true'));
    expect(both.status).to.equal(400);
    expect((both.json as { error: string }).error).to.equal(
      "The parameter 'docs' is not permitted with 'count'.",
    );
    const short = await raw(t, 'GET', nsPath(t, 'activations/abc'));
    expect(short.status).to.equal(400);
    expect((short.json as { error: string }).error).to.equal('Activation id length is 3 but must be 32.');
    const unknown = await raw(t, 'GET', nsPath(t, `activations/${'0'.repeat(32)}`));
    expect(unknown.status).to.equal(404);
  });
});
