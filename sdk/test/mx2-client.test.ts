// The Mx2 client's own decisions: Retry-After in both RFC 9110 forms, and requests that break the
// MEC 016 data model refused before they are sent (field-level messages).
import { expect } from 'chai';
import { createMx2Client, Mx2RequestError, retryAfter } from '../src/mx2-client.ts';

describe('sdk Mx2 client', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(retryAfter('120', now)).to.equal(120);
    expect(retryAfter('Tue, 01 Dec 2026 12:00:30 GMT', now)).to.equal(30);
    expect(retryAfter('Tue, 01 Dec 2026 11:00:00 GMT', now)).to.equal(0);
    expect(retryAfter('soon', now)).to.equal(undefined);
    expect(retryAfter(null, now)).to.equal(undefined);
  });

  it('refuses a request that breaks the data model before sending it', async () => {
    // nothing listens on port 9 of loopback: a request that left would fail differently
    const mx2 = createMx2Client({ url: 'http://127.0.0.1:9' });
    const err = await mx2
      .createContext({
        associateDevAppId: 'x'.repeat(33),
        appInfo: { appName: 'a', appProvider: 'p', appDVersion: '1', userAppInstanceInfo: [] },
      })
      .catch((e: unknown) => e);
    await mx2.close();
    expect(err).to.be.instanceOf(Mx2RequestError);
    expect((err as Mx2RequestError).fields).to.deep.equal([
      'associateDevAppId',
      'appInfo.userAppInstanceInfo',
    ]);
  });
});
