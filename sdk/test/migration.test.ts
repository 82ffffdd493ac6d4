// The transparent-migration decisions: which failures prove the payload did not run, and when an
// invocation is sealed again (only for a newer address, within the attempt bound).

import { Qkd014Error } from '@mecqkd/kme-sim/client';
import { expect } from 'chai';
import { EnvelopeError } from '../src/envelope.ts';
import { KeySupplyClosed } from '../src/key-supply.ts';
import { classifyFailure, nextStep } from '../src/migration.ts';
import { ApplicationError, InvocationRefused, KeyUnavailable } from '../src/secure-invoke.ts';

const netError = (code: string) =>
  Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });

describe('sdk migration decisions', () => {
  it('classifies what a failed attempt proves', () => {
    expect(classifyFailure(new InvocationRefused('http-404', 'gone', 404))).to.equal('not-here');
    expect(classifyFailure(netError('ECONNREFUSED'))).to.equal('not-delivered');
    expect(classifyFailure(netError('UND_ERR_CONNECT_TIMEOUT'))).to.equal('not-delivered');
    // the wrapper names a reason before the app runs; OpenWhisk throttles before activating
    expect(classifyFailure(new InvocationRefused('unknown-key', 'x', 400))).to.equal('refused');
    expect(classifyFailure(new InvocationRefused('http-429', 'x', 429))).to.equal('refused');
    expect(classifyFailure(new ApplicationError('boom'))).to.equal('app-error');
    // may have run: a 400 without a reason (the app's non-JSON answer), a 502, a 202, a reset
    expect(classifyFailure(new InvocationRefused('http-400', 'x', 400))).to.equal('unknown');
    expect(classifyFailure(new InvocationRefused('http-502', 'x', 502))).to.equal('unknown');
    expect(classifyFailure(new InvocationRefused('http-202', 'x', 202))).to.equal('unknown');
    expect(classifyFailure(netError('ECONNRESET'))).to.equal('unknown');
    expect(classifyFailure(netError('UND_ERR_HEADERS_TIMEOUT'))).to.equal('unknown');
    expect(classifyFailure(new EnvelopeError('authentication-failed', 'x'))).to.equal('unknown');
    // the client KME gave no key: nothing was sealed, let alone sent
    expect(classifyFailure(new KeyUnavailable(new Qkd014Error('no keys', 503, undefined, 1)))).to.equal(
      'no-key',
    );
    // the key supply of an address the session left (a migration) closed while the call waited
    // for its key allowance: nothing was sealed or sent, so it goes again to the new address
    expect(classifyFailure(new KeyUnavailable(new KeySupplyClosed()))).to.equal('not-delivered');
  });

  it('retries only what did not run, on a newer address, within the bound', () => {
    const s = { attemptGeneration: 0, currentGeneration: 0, attempts: 1, maxAttempts: 4 };
    expect(nextStep({ ...s, kind: 'not-here' })).to.equal('wait');
    expect(nextStep({ ...s, kind: 'not-here', currentGeneration: 1 })).to.equal('retry');
    expect(nextStep({ ...s, kind: 'not-delivered', currentGeneration: 1 })).to.equal('retry');
    expect(nextStep({ ...s, kind: 'not-here', attempts: 4, currentGeneration: 1 })).to.equal('fail');
    for (const kind of ['no-key', 'refused', 'app-error', 'unknown'] as const)
      expect(nextStep({ ...s, kind, currentGeneration: 1 }), kind).to.equal('fail');
  });
});
