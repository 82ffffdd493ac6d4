// Conformance: web actions (OW docs/webactions.md) — no API key, `web-export` required, argument
// precedence and reserved names, `final` parameters, answers by extension, records in the owner's
// namespace.
import { expect } from 'chai';
import { code, createTracker, waitForActivation } from './fixtures.ts';
import { raw } from './http.ts';
import { type Client, client, getTarget, type Target, uniqueName } from './target.ts';

const web = {
  echo: 'function main(params) { return params; }',
  http: `function main(p) {
    return { statusCode: 201, headers: { 'X-Answer': '42', 'Content-Type': 'application/json' }, body: { got: p.q } };
  }`,
  text: 'function main(p) { return { text: "hello " + p.name }; }',
  appError: 'function main() { return { error: { reason: "bad input" } }; }',
};

describe('conformance: web actions', () => {
  let t: Target;
  let ow: Client;
  let actions: ReturnType<typeof createTracker>;
  let ns: string;
  const names: Record<string, string> = {};
  const exported = { annotations: { 'web-export': true } };
  const url = (name: string, suffix = '.json') =>
    `/api/v1/web/${encodeURIComponent(ns)}/default/${name}${suffix}`;

  before(async () => {
    t = await getTarget();
    ow = client(t);
    actions = createTracker(ow);
    for (const [key, source] of Object.entries(web)) {
      names[key] = uniqueName(`web-${key}`);
      const created = await actions.deploy(names[key] as string, source, exported);
      ns = created.namespace as string;
    }
    names.bound = uniqueName('web-bound');
    await actions.deploy(names.bound, web.echo, {
      params: { fixed: 'server' },
      annotations: { 'web-export': true, final: true },
    });
    names.thrown = uniqueName('web-thrown');
    await actions.deploy(names.thrown, code.thrown, exported);
    names.private = uniqueName('web-private');
    await actions.deploy(names.private, web.echo);
  });
  after(() => actions?.cleanup());

  it('runs without an API key; query < body; __ow_method, __ow_path, __ow_headers', async () => {
    const res = await raw(t, 'POST', `${url(names.echo as string)}?a=query&b=query`, {
      auth: null,
      body: { b: 'body' },
    });
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.match(/^application\/json/);
    const result = res.json as Record<string, unknown>;
    expect(result).to.include({ a: 'query', b: 'body', __ow_method: 'post', __ow_path: '' });
    expect(result.__ow_headers).to.have.property('content-type', 'application/json');
  });

  it('stores the activation in the owner namespace, id in x-openwhisk-activation-id', async () => {
    const res = await raw(t, 'GET', `${url(names.echo as string)}?x=1`, { auth: null });
    const id = res.headers['x-openwhisk-activation-id'] as string;
    expect(id).to.match(/^[0-9a-f]{32}$/);
    const record = await waitForActivation(ow, id);
    expect(record.name).to.equal(names.echo);
    expect(record.response?.success).to.equal(true);
  });

  it('answers 404 for an action without web-export, an unknown action or package', async () => {
    for (const path of [
      url(names.private as string),
      url('no-such-action'),
      `/api/v1/web/${ns}/nopkg/${names.echo}.json`,
    ]) {
      const res = await raw(t, 'POST', path, { auth: null, body: {} });
      expect(res.status, path).to.equal(404);
      expect(res.json).to.have.property('error', 'The requested resource does not exist.');
    }
  });

  // WebActions.scala looks the first segment up as a namespace (identityByNamespace): `_` is no
  // alias there, with or without a key, so a web URL must name the real namespace.
  it('answers 404 for the "_" namespace alias in a web URL, even with the namespace key', async () => {
    const alias = `/api/v1/web/_/default/${names.echo}.json`;
    for (const auth of [null, undefined]) {
      const res = await raw(t, 'POST', alias, { auth, body: {} });
      expect(res.status).to.equal(404);
      expect(res.json).to.have.property('error', 'The requested resource does not exist.');
    }
    const [own] = (await raw(t, 'GET', '/api/v1/namespaces')).json as string[];
    expect(own).to.equal(ns);
    expect((await raw(t, 'POST', url(names.echo as string), { auth: null, body: {} })).status).to.equal(200);
  });

  it('refuses to let a request set __ow_* names or override final parameters (400)', async () => {
    const reserved = await raw(t, 'POST', url(names.echo as string), {
      auth: null,
      body: { __ow_method: 'x' },
    });
    expect(reserved.status).to.equal(400);
    const final = await raw(t, 'POST', url(names.bound as string), { auth: null, body: { fixed: 'client' } });
    expect(final.status).to.equal(400);
    const ok = await raw(t, 'POST', url(names.bound as string), { auth: null, body: { other: 1 } });
    expect(ok.status).to.equal(200);
    expect(ok.json).to.include({ fixed: 'server', other: 1 });
  });

  it('.http takes statusCode, headers and body from the result', async () => {
    const res = await raw(t, 'GET', `${url(names.http as string, '.http')}?q=7`, { auth: null });
    expect(res.status).to.equal(201);
    expect(res.headers['x-answer']).to.equal('42');
    expect(res.json).to.deep.equal({ got: '7' });
  });

  it('.text projects the field named by the extension', async () => {
    const res = await raw(t, 'GET', `${url(names.text as string, '.text')}?name=MEC`, { auth: null });
    expect(res.status).to.equal(200);
    expect(res.text).to.equal('hello MEC');
  });

  it('an application error answers its error field; a thrown error answers 502', async () => {
    const app = await raw(t, 'POST', url(names.appError as string), { auth: null, body: {} });
    expect(app.status).to.equal(400);
    expect(app.json).to.deep.equal({ reason: 'bad input' });
    const thrown = await raw(t, 'POST', url(names.thrown as string), { auth: null, body: {} });
    expect(thrown.status).to.equal(502);
  });
});
