// The operator's wrapper gives every deployed action the key-use policy of its MecApp — N and the
// declared demand the host SAE derives each context's key allowance from — as init parameters,
// the only place a web request cannot reach; a change of either is a new action.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { desiredAction } from '../../src/openwhisk/action.ts';
import { secureWrapper } from '../../src/openwhisk/secure-wrapper.ts';
import { app } from './fixtures.ts';

describe('secure wrapper: the MecApp key-use policy in the action', () => {
  let dir: string;
  let wrap: NonNullable<ReturnType<typeof secureWrapper>>['wrap'];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mecqkd-secure-wrapper-'));
    writeFileSync(join(dir, 'master'), 'm'.repeat(43));
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----');
    wrap = secureWrapper({
      wrapperSecretFile: join(dir, 'master'),
      hostSaeCaFile: join(dir, 'ca.pem'),
    })!.wrap;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const policy = (placement: Record<string, unknown>) => {
    const a = desiredAction(app('cardio', { placement }), 'function main() {}', wrap);
    const init = Object.fromEntries(
      (a.body.parameters as { key: string; value: unknown; init?: boolean }[])
        .filter((p) => p.init)
        .map((p) => [p.key, p.value]),
    );
    return { name: a.name, init };
  };

  it('passes invocationsPerKey and expectedInvocationsPerSecond as init parameters', () => {
    const { init } = policy({ expectedInvocationsPerSecond: 5, invocationsPerKey: 10 });
    expect(init).to.include({
      MECQKD_INVOCATIONS_PER_KEY: '10',
      MECQKD_EXPECTED_INVOCATIONS_PER_SECOND: '5',
    });
  });

  it('deploys a new action when the declared demand changes', () => {
    expect(policy({ expectedInvocationsPerSecond: 5 }).name).to.not.equal(
      policy({ expectedInvocationsPerSecond: 50 }).name,
    );
  });
});
