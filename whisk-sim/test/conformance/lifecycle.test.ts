// Conformance: the action lifecycle through the unmodified openwhisk client.
import { expect } from 'chai';
import { code, createTracker, expectFailure } from './fixtures.ts';
import { nsPath, raw } from './http.ts';
import { type Client, client, getTarget, type Target, uniqueName } from './target.ts';

type OwError = { statusCode?: number; error?: { error?: string; code?: string } };

const failure = (p: Promise<unknown>) => expectFailure<OwError>(p);

describe('conformance: action lifecycle', () => {
  let t: Target;
  let ow: Client;
  let actions: ReturnType<typeof createTracker>;

  before(async () => {
    t = await getTarget();
    ow = client(t);
    actions = createTracker(ow);
  });
  after(() => actions?.cleanup());

  it('creates an action with version 0.0.1, the resolved kind, default limits and auto annotations', async () => {
    const name = uniqueName('create');
    actions.track(name);
    const action = await ow.actions.create({ name, action: code.echo });
    expect(action).to.include({ name, version: '0.0.1', publish: false });
    expect(action.namespace).to.not.equal('_');
    expect(action.exec).to.include({ binary: false, code: code.echo });
    expect(action.exec.kind).to.match(/^nodejs:\d+$/);
    expect(action.limits).to.include({ timeout: 60000, memory: 256, logs: 10, concurrency: 1 });
    expect(action.annotations).to.deep.include({ key: 'provide-api-key', value: false });
    expect(action.annotations).to.deep.include({ key: 'exec', value: action.exec.kind });
  });

  it('answers 409 "resource already exists" when creating an existing action without overwrite', async () => {
    const name = uniqueName('conflict');
    await actions.deploy(name, code.echo);
    const err = await failure(ow.actions.create({ name, action: code.echo }));
    expect(err.statusCode).to.equal(409);
    expect(err.error?.error).to.equal('resource already exists');
    expect(err.error?.code).to.be.a('string').and.not.empty;
  });

  it('bumps the version on update, keeps absent fields, merges annotations and replaces parameters', async () => {
    const name = uniqueName('update');
    await actions.deploy(name, code.echo, {
      params: { a: 1 },
      annotations: { keep: 'me' },
      limits: { memory: 128 },
    });
    const updated = await ow.actions.update({
      name,
      action: code.hello,
      params: { b: 2 },
      annotations: { added: true },
    });
    expect(updated.version).to.equal('0.0.2');
    expect(updated.limits?.memory).to.equal(128);
    expect(updated.parameters).to.deep.equal([{ key: 'b', value: 2 }]);
    expect(updated.annotations).to.deep.include({ key: 'keep', value: 'me' });
    expect(updated.annotations).to.deep.include({ key: 'added', value: true });
  });

  it('returns the code by default and omits it with code=false', async () => {
    const name = uniqueName('get');
    await actions.deploy(name, code.echo);
    const withCode = await ow.actions.get({ name });
    expect(withCode.exec).to.have.property('code', code.echo);
    const withoutCode = await ow.actions.get({ name, code: false } as never);
    expect(withoutCode.exec).to.not.have.property('code');
    expect(withoutCode.exec.kind).to.equal(withCode.exec.kind);
  });

  it('lists actions newest first with limit, skip and count', async () => {
    const names = [uniqueName('list'), uniqueName('list'), uniqueName('list')];
    for (const name of names) await actions.deploy(name, code.echo);
    const listed = await ow.actions.list({ limit: 200 });
    const ours = listed.map((a) => a.name).filter((n) => n !== undefined && names.includes(n));
    expect(ours).to.deep.equal([...names].reverse());
    const view = listed.find((a) => a.name === names[0]) as unknown as Record<string, unknown>;
    expect(view.exec).to.deep.equal({ binary: false });
    expect(await ow.actions.list({ limit: 1 })).to.have.length(1);
    const count = (await ow.actions.list({ count: true } as never)) as unknown as { actions: number };
    expect(count.actions).to.be.at.least(3);
    const skipped = await ow.actions.list({ limit: 2, skip: 1 });
    expect(skipped[0]?.name).to.equal(listed[1]?.name);
  });

  it('rejects list limits outside 0..200', async () => {
    const res = await raw(t, 'GET', nsPath(t, 'actions?limit=201'));
    expect(res.status).to.equal(400);
    expect((res.json as { error: string }).error).to.equal(
      "The value '201' is not in the range of 0 to 200 for actions.",
    );
  });

  it('deletes an action, returning it, then answers 404 with the standard message', async () => {
    const name = uniqueName('delete');
    await actions.deploy(name, code.echo);
    const deleted = await ow.actions.delete({ name });
    expect(deleted).to.include({ name, version: '0.0.1' });
    const err = await failure(ow.actions.get({ name }));
    expect(err.statusCode).to.equal(404);
    expect(err.error?.error).to.equal('The requested resource does not exist.');
    expect((await failure(ow.actions.delete({ name }))).statusCode).to.equal(404);
  });

  it('lists the caller namespace', async () => {
    const namespaces = await ow.namespaces.list();
    expect(namespaces).to.be.an('array').that.is.not.empty;
    if (t.namespace !== '_') expect(namespaces).to.include(t.namespace);
  });

  it('rejects unknown kinds, missing exec, missing code, illegal names and out-of-range limits with 400', async () => {
    const name = uniqueName('bad');
    actions.track(name);
    const kind = await failure(ow.actions.create({ name, action: code.echo, kind: 'nodejs:99' as never }));
    expect(kind.statusCode).to.equal(400);
    expect(kind.error?.error).to.match(/The specified runtime 'nodejs:99' is not supported by this platform/);
    const noExec = await raw(t, 'PUT', nsPath(t, `actions/${name}`), { body: { parameters: [] } });
    expect(noExec.status).to.equal(400);
    expect((noExec.json as { error: string }).error).to.equal('exec undefined');
    const noCode = await raw(t, 'PUT', nsPath(t, `actions/${name}`), {
      body: { exec: { kind: 'nodejs:default' } },
    });
    expect(noCode.status).to.equal(400);
    expect((noCode.json as { error: string }).error).to.match(/'code' must be a string defined in 'exec'/);
    const illegal = await raw(t, 'PUT', nsPath(t, 'actions/%20bad'), {
      body: { exec: { kind: 'nodejs:default', code: code.echo } },
    });
    expect(illegal.status).to.equal(400);
    expect((illegal.json as { error: string }).error).to.equal(
      'The name of the entity contains illegal characters.',
    );
    const memory = await failure(ow.actions.create({ name, action: code.echo, limits: { memory: 4096 } }));
    expect(memory.statusCode).to.equal(400);
    expect(memory.error?.error).to.match(/memory 4096 MB exceeds allowed threshold of \d+ MB/);
    const timeout = await failure(
      ow.actions.create({ name, action: code.echo, limits: { timeout: 10_000_000 } }),
    );
    expect(timeout.error?.error).to.match(
      /timeout 10000000 milliseconds exceeds allowed threshold of \d+ milliseconds/,
    );
  });
});
