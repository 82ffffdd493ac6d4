// The callbackReference endpoint: what it accepts (the four MEC 016 notifications, validated and
// emitted typed, 204), and what it refuses with ProblemDetails.
import { expect } from 'chai';
import type { Notification } from '../src/mx2-schemas.ts';
import { type NotificationReceiver, startNotificationReceiver } from '../src/notification-receiver.ts';

const ID = 'a'.repeat(32);
const ADDRESS_CHANGE = {
  notificationType: 'AddressChangeNotification',
  contextId: ID,
  appInstanceId: 'host-2/mecqkd-square',
  referenceURI: 'http://127.0.0.1:9/api/v1/web/ns/default/mecqkd-square.json',
  vendorSpecificExt: { vendorId: 'mecqkd', hostSaeId: 'SAE_HOST_2', hostKmeId: 'KME_HOST_2' },
};

describe('sdk notification receiver', () => {
  let r: NotificationReceiver;
  const got: Notification[] = [];
  const rejected: number[] = [];
  before(async () => {
    r = await startNotificationReceiver();
    r.on('notification', (n) => got.push(n));
    r.on('rejected', (x) => rejected.push(x.status));
  });
  after(() => r.close());
  beforeEach(() => {
    got.length = 0;
    rejected.length = 0;
  });

  type Problem = { status: number; detail: string; fields?: string[] };
  const problem = async (res: Response) => (await res.json()) as Problem;
  const post = (
    body: unknown,
    headers: Record<string, string> = { 'content-type': 'application/json' },
    url = r.url,
  ) => fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('has a callbackReference with an unguessable path', async () => {
    const other = await startNotificationReceiver();
    await other.close();
    expect(r.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/mx2\/notifications\/[0-9a-f]{32}$/);
    expect(new URL(other.url).pathname).to.not.equal(new URL(r.url).pathname);
  });

  it('accepts each notification type with 204 and emits it typed', async () => {
    const bodies = [
      ADDRESS_CHANGE,
      {
        notificationType: 'ApplicationContextUpdateNotification',
        contextId: ID,
        userAppInstanceInfo: [{ appInstanceId: 'host-2/x', referenceURI: 'https://h/x.json' }],
      },
      { notificationType: 'ApplicationContextDeleteNotification', contextId: ID },
      {
        notificationType: 'ApplicationLocationAvailabilityNotification',
        availableLocations: [{ appLocation: { countryCode: 'IT' } }],
      },
    ];
    for (const b of bodies) expect((await post(b)).status).to.equal(204);
    expect(got.map((n) => n.notificationType)).to.deep.equal(bodies.map((b) => b.notificationType));
    expect(got[0]).to.deep.equal(ADDRESS_CHANGE);
  });

  it('refuses a wrong notificationType, a missing field and bad JSON with 400 ProblemDetails', async () => {
    const wrongName = await post({ ...ADDRESS_CHANGE, notificationType: 'AppContextDeleteNotification' });
    expect(wrongName.status).to.equal(400);
    expect(wrongName.headers.get('content-type')).to.equal('application/problem+json');
    expect(await problem(wrongName)).to.deep.include({ status: 400, fields: ['notificationType'] });
    const { referenceURI: _r, ...noUri } = ADDRESS_CHANGE;
    const missing = await post(noUri);
    expect(missing.status).to.equal(400);
    expect((await problem(missing)).fields).to.deep.equal(['referenceURI']);
    const update = await post({
      notificationType: 'ApplicationContextUpdateNotification',
      contextId: ID,
      userAppInstanceInfo: [{ appInstanceId: 'x' }],
    });
    expect((await problem(update)).fields).to.deep.equal(['userAppInstanceInfo.0.referenceURI']);
    const notJson = await post('{"notificationType":');
    expect(notJson.status).to.equal(400);
    expect((await problem(notJson)).detail).to.equal('the body is not JSON');
    expect(got).to.deep.equal([]);
    expect(rejected).to.deep.equal([400, 400, 400, 400]);
  });

  it('refuses other paths (404), methods (405), media types (415) and large bodies (413)', async () => {
    const base = new URL(r.url);
    expect((await post(ADDRESS_CHANGE, undefined, `${base.origin}/mx2/notifications/guess`)).status).to.equal(
      404,
    );
    const get = await fetch(r.url);
    expect(get.status).to.equal(405);
    expect(get.headers.get('allow')).to.equal('POST');
    expect((await post(JSON.stringify(ADDRESS_CHANGE), { 'content-type': 'text/plain' })).status).to.equal(
      415,
    );
    expect((await post({ ...ADDRESS_CHANGE, pad: 'x'.repeat(70_000) })).status).to.equal(413);
    expect(got).to.deep.equal([]);
  });
});
