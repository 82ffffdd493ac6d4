// Conformance: the __OW_* environment and parameter handling of the Node.js runtime.
import { expect } from 'chai';
import { code, createTracker } from './fixtures.ts';
import { type Client, client, getTarget, type Target, uniqueName } from './target.ts';

type EnvResult = { env: Record<string, string | undefined>; params: Record<string, unknown> };

describe('conformance: action environment', () => {
  let t: Target;
  let ow: Client;
  let actions: ReturnType<typeof createTracker>;

  before(async () => {
    t = await getTarget();
    ow = client(t);
    actions = createTracker(ow);
  });
  after(() => actions?.cleanup());

  it('exports __OW_* values of the activation, without __OW_API_KEY by default', async () => {
    const name = uniqueName('env');
    const created = await actions.deploy(name, code.env);
    const record = (await ow.actions.invoke({ name, blocking: true, params: { p: 1 } })) as unknown as {
      activationId: string;
      response: { result: EnvResult };
    };
    const { env, params } = record.response.result;
    expect(params).to.deep.equal({ p: 1 });
    expect(env.__OW_NAMESPACE).to.equal(created.namespace);
    expect(env.__OW_ACTION_NAME).to.equal(`/${created.namespace}/${name}`);
    expect(env.__OW_ACTION_VERSION).to.equal('0.0.1');
    expect(env.__OW_ACTIVATION_ID).to.equal(record.activationId);
    expect(env.__OW_TRANSACTION_ID).to.be.a('string').and.not.empty;
    expect(Number(env.__OW_DEADLINE)).to.be.greaterThan(Date.now());
    expect(env.__OW_API_HOST).to.be.a('string').and.not.empty;
    expect(env).to.not.have.property('__OW_API_KEY');
  });

  it('exports __OW_API_KEY when the action is annotated provide-api-key: true', async () => {
    const name = uniqueName('apikey');
    await actions.deploy(name, code.env, { annotations: { 'provide-api-key': true } });
    const result = (await ow.actions.invoke({ name, blocking: true, result: true })) as unknown as EnvResult;
    expect(result.env.__OW_API_KEY).to.equal(t.apiKey);
  });

  it('gives each activation its own __OW_ACTIVATION_ID in a warm container', async () => {
    const name = uniqueName('warm-env');
    await actions.deploy(name, code.env);
    const first = (await ow.actions.invoke({ name, blocking: true })) as unknown as {
      activationId: string;
      response: { result: EnvResult };
    };
    const second = (await ow.actions.invoke({ name, blocking: true })) as unknown as {
      activationId: string;
      response: { result: EnvResult };
    };
    expect(first.response.result.env.__OW_ACTIVATION_ID).to.equal(first.activationId);
    expect(second.response.result.env.__OW_ACTIVATION_ID).to.equal(second.activationId);
  });

  it('passes init parameters as environment only, other parameters as arguments', async () => {
    const name = uniqueName('init-params');
    const body = {
      exec: { kind: 'nodejs:default', code: code.env },
      parameters: [
        { key: 'SECRET_FROM_INIT', value: 's3cr3t', init: true },
        { key: 'plain', value: 'arg' },
      ],
    };
    actions.track(name);
    await ow.actions.create({ name, action: body as never });
    const result = (await ow.actions.invoke({ name, blocking: true, result: true })) as unknown as EnvResult;
    expect(result.env.SECRET_FROM_INIT).to.equal('s3cr3t');
    expect(result.params).to.deep.equal({ plain: 'arg' });
  });

  it('lets an action call OpenWhisk with the bundled openwhisk client', async () => {
    const name = uniqueName('nested');
    const callee = uniqueName('callee');
    await actions.deploy(callee, code.echo);
    const nested = `function main() {
      const ow = require('openwhisk')({ ignore_certs: true });
      return ow.actions.invoke({ name: '${callee}', blocking: true, result: true, params: { from: 'action' } });
    }`;
    await actions.deploy(name, nested, { annotations: { 'provide-api-key': true } });
    const result = await ow.actions.invoke({ name, blocking: true, result: true });
    expect(result).to.deep.equal({ from: 'action' });
  });
});
