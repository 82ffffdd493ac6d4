import { expect } from 'chai';
import { DIGEST_ANNOTATION, desiredAction, invocationUrl } from '../../src/openwhisk/action.ts';
import { app } from './fixtures.ts';

describe('desiredAction (one function from MecApp to OpenWhisk action)', () => {
  it('names the action after the app and a digest of what is deployed', () => {
    const a = desiredAction(app('cardio'), 'function main() { return {}; }');
    expect(a.name).to.match(/^mecqkd-cardio-[0-9a-f]{12}$/);
    expect(a.body.exec).to.deep.equal({
      kind: 'nodejs:20',
      code: 'function main() { return {}; }',
      main: 'main',
    });
    expect(a.body.limits).to.deep.equal({ timeout: 60_000, memory: 256, concurrency: 1 });
    expect(a.body.annotations.find((x) => x.key === DIGEST_ANNOTATION)?.value).to.equal(a.digest);
  });

  it('changes name exactly when code or settings change', () => {
    const base = desiredAction(app('cardio'), 'code-1');
    expect(desiredAction(app('cardio'), 'code-1').name).to.equal(base.name);
    expect(desiredAction(app('cardio'), 'code-2').name).to.not.equal(base.name);
    const moreMemory = app('cardio', { action: { code: 'x', limits: { memoryMb: 512 } } });
    expect(desiredAction(moreMemory, 'code-1').name).to.not.equal(base.name);
    const reordered = (p: Record<string, unknown>) =>
      desiredAction(app('cardio', { action: { code: 'x', parameters: p } }), 'c');
    expect(reordered({ a: 1, b: 2 }).name).to.equal(reordered({ b: 2, a: 1 }).name);
  });

  it('lets a wrapper rewrite the action, and the digest covers the wrapped result', () => {
    const plain = desiredAction(app('cardio'), 'code');
    const wrapped = desiredAction(app('cardio'), 'code', (b) => ({
      ...b,
      exec: { ...b.exec, code: `/*wrapped*/${b.exec.code}` },
    }));
    expect(wrapped.body.exec.code).to.equal('/*wrapped*/code');
    expect(wrapped.digest).to.not.equal(plain.digest);
  });

  it('builds the MEC 016 referenceURI of an action: its web action URL, which needs no namespace key', () => {
    expect(invocationUrl('http://127.0.0.1:3233/', 'guest', 'mecqkd-x-1')).to.equal(
      'http://127.0.0.1:3233/api/v1/web/guest/default/mecqkd-x-1.json',
    );
  });
});
