// Conformance: every invocation outcome (202/200/502, result, timeout, limits) through the client.
import { expect } from 'chai';
import { annotationValue, code, createTracker, expectFailure, waitForActivation } from './fixtures.ts';
import { nsPath, raw } from './http.ts';
import { type Client, client, getTarget, type Target, uniqueName } from './target.ts';

type Record_ = {
  activationId: string;
  response: { status: string; success: boolean; result: Record<string, unknown> };
  logs: string[];
  annotations: { key: string; value: unknown }[];
  duration: number;
};
type OwError = { statusCode?: number; error?: Record_ & { error?: string } };

const failure = (p: Promise<unknown>) => expectFailure<OwError>(p);

describe('conformance: invocation outcomes', () => {
  let t: Target;
  let ow: Client;
  let actions: ReturnType<typeof createTracker>;
  const names: Record<string, string> = {};

  before(async () => {
    t = await getTarget();
    ow = client(t);
    actions = createTracker(ow);
    for (const [key, source] of Object.entries(code)) {
      names[key] = uniqueName(key);
      await actions.deploy(names[key] as string, source);
    }
  });
  after(() => actions?.cleanup());

  const invokePath = (name: string, query = '') => nsPath(t, `actions/${name}${query}`);

  it('non-blocking: 202 with an activation id, also in x-openwhisk-activation-id', async () => {
    const res = await raw(t, 'POST', invokePath(names.echo as string), { body: { a: 1 } });
    expect(res.status).to.equal(202);
    const { activationId } = res.json as { activationId: string };
    expect(activationId).to.match(/^[0-9a-f]{32}$/);
    expect(res.headers['x-openwhisk-activation-id']).to.equal(activationId);
    const viaClient = await ow.actions.invoke({ name: names.echo as string });
    expect(viaClient.activationId).to.match(/^[0-9a-f]{32}$/);
  });

  it('blocking success: 200 with the record, logs [] and cold-only initTime', async () => {
    const name = uniqueName('cold');
    await actions.deploy(name, code.hello);
    const cold = (await ow.actions.invoke({
      name,
      blocking: true,
      params: { name: 'MEC' },
    })) as unknown as Record_;
    expect(cold.response).to.deep.include({ status: 'success', success: true });
    expect(cold.response.result).to.deep.equal({ greeting: 'Hello MEC' });
    expect(cold.logs).to.deep.equal([]);
    expect(annotationValue(cold, 'path')).to.match(new RegExp(`/${name}$`));
    expect(annotationValue(cold, 'kind')).to.match(/^nodejs:/);
    expect(annotationValue(cold, 'limits')).to.include({ memory: 256 });
    expect(annotationValue(cold, 'waitTime')).to.be.a('number');
    expect(annotationValue(cold, 'initTime')).to.be.a('number');
    expect(cold.duration).to.be.at.least(annotationValue(cold, 'initTime') as number);
    // the container goes back to the pool once its logs are collected, which can be just after the
    // blocking response; the stored record says it is back
    await waitForActivation(ow, cold.activationId);
    const warm = (await ow.actions.invoke({
      name,
      blocking: true,
      params: { name: 'QKD' },
    })) as unknown as Record_;
    expect(warm.response.result).to.deep.equal({ greeting: 'Hello QKD' });
    expect(annotationValue(warm, 'initTime')).to.equal(undefined);
  });

  it('result=true returns the bare result (client option and raw query)', async () => {
    const viaClient = await ow.actions.invoke({
      name: names.echo as string,
      blocking: true,
      result: true,
      params: { x: 'y' },
    });
    expect(viaClient).to.deep.equal({ x: 'y' });
    const res = await raw(t, 'POST', invokePath(names.echo as string, '?blocking=true&result=true'), {
      body: { z: 1 },
    });
    expect(res.status).to.equal(200);
    expect(res.json).to.deep.equal({ z: 1 });
    expect(res.headers['x-openwhisk-activation-id']).to.match(/^[0-9a-f]{32}$/);
  });

  it('passes arrays through, as arguments and as results', async () => {
    const arr = await raw(t, 'POST', invokePath(names.array as string, '?blocking=true&result=true'));
    expect(arr.status).to.equal(200);
    expect(arr.json).to.deep.equal([1, 2, 3]);
    const echoed = await raw(t, 'POST', invokePath(names.echo as string, '?blocking=true&result=true'), {
      body: ['a', 'b'],
    });
    expect(echoed.json).to.deep.equal(['a', 'b']);
  });

  it('{error} result: 502 application error', async () => {
    const err = await failure(ow.actions.invoke({ name: names.appError as string, blocking: true }));
    expect(err.statusCode).to.equal(502);
    expect(err.error?.response).to.deep.include({ status: 'application error', success: false });
    expect(err.error?.response.result).to.deep.equal({ error: 'bad input' });
    const res = await raw(t, 'POST', invokePath(names.appError as string, '?blocking=true&result=true'));
    expect(res.status).to.equal(502);
    expect(res.json).to.deep.equal({ error: 'bad input' });
  });

  it('rejected Promise: 502 application error carrying the serialized error', async () => {
    const err = await failure(ow.actions.invoke({ name: names.rejected as string, blocking: true }));
    expect(err.statusCode).to.equal(502);
    expect(err.error?.response.status).to.equal('application error');
    expect(err.error?.response.result.error).to.include({ message: 'async boom', name: 'Error' });
  });

  it('throw: 502 action developer error "An error has occurred: …"', async () => {
    const err = await failure(ow.actions.invoke({ name: names.thrown as string, blocking: true }));
    expect(err.statusCode).to.equal(502);
    expect(err.error?.response.status).to.equal('action developer error');
    expect(err.error?.response.result.error).to.equal('An error has occurred: Error: boom');
  });

  it('non-object result: 502 action developer error', async () => {
    const err = await failure(ow.actions.invoke({ name: names.string as string, blocking: true }));
    expect(err.statusCode).to.equal(502);
    expect(err.error?.response.status).to.equal('action developer error');
    expect(err.error?.response.result.error).to.equal('The action did not return a dictionary.');
  });

  it('init failures: main missing or code not compiling → 502 action developer error', async () => {
    const noMain = await failure(ow.actions.invoke({ name: names.noMain as string, blocking: true }));
    expect(noMain.statusCode).to.equal(502);
    expect(noMain.error?.response.status).to.equal('action developer error');
    expect(noMain.error?.response.result.error).to.match(/main/);
    const syntax = await failure(ow.actions.invoke({ name: names.syntaxError as string, blocking: true }));
    expect(syntax.error?.response.status).to.equal('action developer error');
  });

  it('finds main through exports', async () => {
    const result = await ow.actions.invoke({
      name: names.exportsMain as string,
      blocking: true,
      result: true,
      params: { n: 1 },
    });
    expect(result).to.deep.equal({ via: 'exports', p: { n: 1 } });
  });

  it('blocking past ?timeout: 202 with the activation id, the record appears later', async () => {
    const res = await raw(t, 'POST', invokePath(names.sleep as string, '?blocking=true&timeout=500'), {
      body: { ms: 1500 },
    });
    expect(res.status).to.equal(202);
    const { activationId } = res.json as { activationId: string };
    expect(res.headers['x-openwhisk-activation-id']).to.equal(activationId);
    const record = (await waitForActivation(ow, activationId)) as unknown as Record_;
    expect(record.response.result).to.deep.equal({ slept: 1500 });
  });

  it('rejects a bad ?timeout with 400', async () => {
    const res = await raw(t, 'POST', invokePath(names.echo as string, '?blocking=true&timeout=600000'));
    expect(res.status).to.equal(400);
    expect((res.json as { error: string }).error).to.equal(
      'Timeout must be number of milliseconds up to 60000.',
    );
  });

  it('past the action time limit: developer error with the time-limit message and timeout: true', async () => {
    const name = uniqueName('slow');
    // long enough that a cold start on a busy machine does not already exceed it during /init
    await actions.deploy(name, code.sleep, { limits: { timeout: 1500 } });
    const err = await failure(ow.actions.invoke({ name, blocking: true, params: { ms: 10_000 } }));
    expect(err.statusCode).to.equal(502);
    expect(err.error?.response.status).to.equal('action developer error');
    expect(err.error?.response.result.error).to.equal(
      'The action exceeded its time limits of 1500 milliseconds.',
    );
    expect(annotationValue(err.error as Record_, 'timeout')).to.equal(true);
    const again = await ow.actions.invoke({ name, blocking: true, result: true, params: { ms: 10 } });
    expect(again).to.deep.equal({ slept: 10 });
  });

  it('merges default parameters under the request body', async () => {
    const name = uniqueName('defaults');
    await actions.deploy(name, code.echo, { params: { a: 'default', b: 'default' } });
    const result = await ow.actions.invoke({ name, blocking: true, result: true, params: { b: 'given' } });
    expect(result).to.deep.equal({ a: 'default', b: 'given' });
  });

  it('rejects overriding parameters of a final action with 400', async () => {
    const name = uniqueName('final');
    await actions.deploy(name, code.echo, { params: { fixed: 1 }, annotations: { final: true } });
    const err = await failure(ow.actions.invoke({ name, blocking: true, params: { fixed: 2 } }));
    expect(err.statusCode).to.equal(400);
    expect(err.error?.error).to.equal(
      'Request defines parameters that are not allowed (e.g., reserved properties).',
    );
    expect(
      await ow.actions.invoke({ name, blocking: true, result: true, params: { other: 3 } }),
    ).to.deep.equal({
      fixed: 1,
      other: 3,
    });
  });

  it('rejects a payload over 1 MB with 413', async () => {
    const err = await failure(
      ow.actions.invoke({
        name: names.echo as string,
        blocking: true,
        params: { big: 'x'.repeat(1_100_000) },
      }),
    );
    expect(err.statusCode).to.equal(413);
    expect(err.error?.error).to.match(/^Request larger than allowed: \d+ > 1048576 bytes\.$/);
  });

  it('answers 404 for invoking a missing action', async () => {
    const err = await failure(ow.actions.invoke({ name: uniqueName('missing'), blocking: true }));
    expect(err.statusCode).to.equal(404);
  });
});
