// What the session takes from a notification or a create answer (pure): the instance it names, and
// whether that instance can be invoked (a host SAE for enc_keys, an http(s) referenceURI).
import { expect } from 'chai';
import { instanceOf, instanceTarget } from '../src/offload-session.ts';

const EXT = { vendorId: 'mecqkd', hostSaeId: 'SAE_HOST_2', hostKmeId: 'KME_HOST_2' };
const URI = 'https://127.0.0.1:9/api/v1/web/ns/default/a.json';

describe('sdk offload session decisions', () => {
  it('reads the instance of an AddressChange and a ContextUpdate, none of a Delete', () => {
    const id = 'a'.repeat(32);
    const i = { appInstanceId: 'host-2/a', referenceURI: URI, vendorSpecificExt: EXT };
    expect(instanceOf({ notificationType: 'AddressChangeNotification', contextId: id, ...i })).to.deep.equal(
      i,
    );
    expect(
      instanceOf({
        notificationType: 'ApplicationContextUpdateNotification',
        contextId: id,
        userAppInstanceInfo: [i],
      }),
    ).to.deep.equal(i);
    expect(instanceOf({ notificationType: 'ApplicationContextDeleteNotification', contextId: id })).to.equal(
      undefined,
    );
  });

  it('invokes only an instance with a host SAE and an http(s) referenceURI', () => {
    const ok = instanceTarget({ appInstanceId: 'host-2/a', referenceURI: URI, vendorSpecificExt: EXT }, 3);
    expect(ok).to.deep.equal({
      target: {
        generation: 3,
        appInstanceId: 'host-2/a',
        referenceURI: URI,
        hostSaeId: 'SAE_HOST_2',
        hostKmeId: 'KME_HOST_2',
      },
    });
    expect(instanceTarget({ appInstanceId: 'x', referenceURI: URI }, 1)).to.deep.equal({
      reason: 'the instance names no host SAE (vendorSpecificExt)',
    });
    expect(
      instanceTarget({ appInstanceId: 'x', referenceURI: 'file:///etc/passwd', vendorSpecificExt: EXT }, 1),
    ).to.deep.equal({ reason: 'the referenceURI is not http(s)' });
  });
});
