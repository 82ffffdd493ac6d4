// The wrapped action is one plain script that real OpenWhisk's nodejs runtime can load: only `node:`
// built-ins required, `main` found by evaluating the code the way the runtime does, settings only in
// `init` parameters, and a web action whose parameters a request cannot override.
import { createRequire } from 'node:module';
import { expect } from 'chai';
import { type ActionShape, bindWrapperSecret, wrapAction } from '../src/wrapper/bundle.ts';

const plain: ActionShape & { limits: unknown } = {
  exec: {
    kind: 'nodejs:20',
    code: 'function main(p) { return { doubled: p.x * 2, unit: p.unit }; }',
    main: 'main',
  },
  parameters: [{ key: 'unit', value: 'mmol/L' }],
  annotations: [{ key: 'web-export', value: false }],
  limits: { timeout: 1000 },
};
const settings = {
  hostSaeCa: '-----BEGIN CERTIFICATE-----',
  invocationsPerKey: 7,
  expectedInvocationsPerSecond: 3,
};
const hostSecret = 's'.repeat(43);

describe('action wrapper bundle', () => {
  const everyHost = wrapAction(plain, settings);
  const wrapped = bindWrapperSecret(everyHost, hostSecret);

  it('requires nothing but node: built-ins', async () => {
    const real = createRequire(import.meta.url);
    const required: string[] = [];
    const spy = (id: string) => {
      required.push(id);
      return real(id);
    };
    const load = new Function('require', 'code', 'eval(code); return main;');
    await (load(spy, wrapped.exec.code) as (p: unknown) => Promise<unknown>)({});
    expect(required).to.include('node:tls');
    for (const r of required) expect(r).to.match(/^node:/);
    expect(wrapped.exec.code).to.not.match(/^\s*import\s/m);
  });

  it('defines main when evaluated as the nodejs runtime does (direct eval in a function scope)', () => {
    const load = new Function(
      'require',
      'code',
      'eval(code); return typeof main === "function" ? main : undefined;',
    );
    expect(load(createRequire(import.meta.url), wrapped.exec.code)).to.be.a('function');
    expect(wrapped.exec.main).to.equal('main');
  });

  it('puts its settings in init parameters only and exports a final web action', () => {
    expect(wrapped.parameters.every((p) => p.init === true)).to.equal(true);
    expect(wrapped.parameters.map((p) => p.key).sort()).to.deep.equal([
      'MECQKD_EXPECTED_INVOCATIONS_PER_SECOND',
      'MECQKD_HOST_SAE_CA',
      'MECQKD_INVOCATIONS_PER_KEY',
      'MECQKD_WRAPPER_SECRET',
    ]);
    expect(wrapped.annotations).to.deep.include.members([
      { key: 'web-export', value: true },
      { key: 'final', value: true },
    ]);
    expect(wrapped.annotations.filter((a) => a.key === 'web-export')).to.have.length(1);
  });

  it("holds no wrapper secret until bound to a host, and then exactly that host's", () => {
    expect(everyHost.parameters.map((p) => p.key)).to.not.include('MECQKD_WRAPPER_SECRET');
    const rebound = bindWrapperSecret(wrapped, 't'.repeat(43));
    const secrets = rebound.parameters.filter((p) => p.key === 'MECQKD_WRAPPER_SECRET');
    expect(secrets).to.deep.equal([{ key: 'MECQKD_WRAPPER_SECRET', value: 't'.repeat(43), init: true }]);
    expect(rebound.exec.code).to.equal(everyHost.exec.code);
  });

  it('carries the app and its bound parameters inside the code', () => {
    expect(wrapped.exec.code).to.include(JSON.stringify(plain.exec.code));
    expect(wrapped.exec.code).to.include('"unit":"mmol/L"');
  });

  it('answers an application error naming the reason, echoing nothing, when not configured', async () => {
    const load = new Function('require', 'code', 'eval(code); return main;');
    const main = load(createRequire(import.meta.url), wrapped.exec.code) as (p: unknown) => Promise<unknown>;
    const out = (await main({ secret: 'patient-123' })) as { error: { reason: string; message: string } };
    expect(out.error.reason).to.equal('misconfigured');
    expect(JSON.stringify(out)).to.not.include('patient-123');
  });
});
