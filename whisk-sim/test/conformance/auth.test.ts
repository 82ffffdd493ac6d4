// Conformance: basic auth (401 shapes), the `_` alias, and 403 for another namespace.
import { expect } from 'chai';
import { code, createTracker } from './fixtures.ts';
import { raw } from './http.ts';
import { type Client, client, getTarget, type Target, uniqueName } from './target.ts';

describe('conformance: authentication and namespaces', () => {
  let t: Target;
  let ow: Client;
  let actions: ReturnType<typeof createTracker>;

  before(async () => {
    t = await getTarget();
    ow = client(t);
    actions = createTracker(ow);
  });
  after(() => actions?.cleanup());

  it('answers 401 with the OpenWhisk message and realm for a wrong key', async () => {
    const [uuid] = t.apiKey.split(':');
    const res = await raw(t, 'GET', '/api/v1/namespaces/_/actions', { auth: `${uuid}:${'x'.repeat(64)}` });
    expect(res.status).to.equal(401);
    expect(res.headers['www-authenticate']).to.match(/^Basic realm="OpenWhisk secure realm"/);
    expect(res.json).to.have.property('error', 'The supplied authentication is invalid');
    const viaClient = await client(t, `${uuid}:${'y'.repeat(64)}`)
      .actions.list()
      .then(
        () => undefined,
        (err: { statusCode?: number }) => err.statusCode,
      );
    expect(viaClient).to.equal(401);
  });

  it('answers 401 without credentials', async () => {
    const res = await raw(t, 'GET', '/api/v1/namespaces/_/actions', { auth: null });
    expect(res.status).to.equal(401);
    expect(res.headers['www-authenticate']).to.match(/^Basic realm=/);
  });

  it('resolves `_` to the caller namespace in responses', async () => {
    const name = uniqueName('alias');
    await actions.deploy(name, code.echo);
    const res = await raw(t, 'GET', `/api/v1/namespaces/_/actions/${name}`);
    expect(res.status).to.equal(200);
    const [own] = (await raw(t, 'GET', '/api/v1/namespaces')).json as string[];
    expect((res.json as { namespace: string }).namespace).to.equal(own);
  });

  it("answers 403 for another namespace's entities and collections", async () => {
    const other = `conf-other-${Date.now()}`;
    const entity = await raw(t, 'GET', `/api/v1/namespaces/${other}/actions/secret`);
    expect(entity.status).to.equal(403);
    expect((entity.json as { error: string }).error).to.equal(
      `The supplied authentication is not authorized to access '${other}/secret'.`,
    );
    const collection = await raw(t, 'GET', `/api/v1/namespaces/${other}/actions`);
    expect(collection.status).to.equal(403);
  });

  it('puts the X-Request-ID transaction id into error bodies', async () => {
    const res = await raw(t, 'GET', `/api/v1/namespaces/_/actions/${uniqueName('none')}`, {
      headers: { 'x-request-id': 'conformance-tid-1' },
    });
    expect(res.status).to.equal(404);
    expect(res.json).to.deep.equal({
      error: 'The requested resource does not exist.',
      code: 'conformance-tid-1',
    });
  });

  it('serves the unauthenticated info documents', async () => {
    const api = await raw(t, 'GET', '/api/v1', { auth: null });
    expect(api.json).to.include({ description: 'OpenWhisk API', api_version_path: 'v1' });
    const root = await raw(t, 'GET', '/', { auth: null });
    expect(root.json).to.have.nested.property('limits.actions_per_minute').that.is.a('number');
    expect(root.json).to.have.nested.property('runtimes.nodejs').that.is.an('array');
    const ping = await raw(t, 'GET', '/ping', { auth: null });
    expect(ping.text).to.equal('pong');
  });
});
