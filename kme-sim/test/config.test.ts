import { expect } from 'chai';
import { parseConfig } from '../src/config.ts';

const tls = { cert: 'c.pem', key: 'k.pem', ca: 'ca.pem' };
const seed = '0'.repeat(64);

describe('kme-sim config', () => {
  it('fills defaults and resolves TLS paths against the config directory', () => {
    const c = parseConfig({ kmes: [{ id: 'kme-a', port: 8443, tls, saes: [{ id: 'sae-1' }] }] }, '/etc/kme');
    expect(c.kmes[0]).to.include({ keySize: 256, minKeySize: 64, maxKeySize: 1024, maxKeyPerRequest: 128 });
    expect(c.kmes[0]?.tls.cert).to.equal('/etc/kme/c.pem');
    expect(c.kmes[0]?.admins, 'no admin unless one is named').to.deep.equal([]);
  });

  it('rejects inconsistent topologies with a clear message', () => {
    const bad = (raw: unknown) => () => parseConfig(raw, '/');
    const kmes = [
      { id: 'a', port: 1, tls, saes: [{ id: 's' }] },
      { id: 'b', port: 2, tls, saes: [{ id: 's' }] },
    ];
    expect(bad({ kmes })).to.throw(/SAE s is attached to more than one KME/);
    const sae = { id: 's', certCommonName: 'app.example' };
    for (const admin of ['b', 's', 'app.example'])
      expect(
        bad({
          kmes: [
            { id: 'a', port: 1, tls, saes: [sae], admins: [admin] },
            { id: 'b', port: 2, tls },
          ],
        }),
      ).to.throw(`admin ${admin} of KME a is also the CN of a KME or SAE certificate`);
    const one = [{ id: 'a', port: 1, tls }];
    expect(bad({ kmes: one, links: [{ id: 'l', kmes: ['a', 'x'], seed, skrBitsPerSecond: 1 }] })).to.throw(
      /unknown KME x/,
    );
    expect(bad({ kmes: one, links: [{ id: 'l', kmes: ['a', 'a'], seed, fibreKm: 3 }] })).to.throw(
      /two different/,
    );
    expect(bad({ kmes: one, links: [{ id: 'l', kmes: ['a', 'b'], seed }] })).to.throw(/exactly one of/);
    const outages = [
      { startSeconds: 0, durationSeconds: 10 },
      { startSeconds: 5, durationSeconds: 1 },
    ];
    expect(bad({ kmes: one, links: [{ id: 'l', kmes: ['a', 'b'], seed, fibreKm: 3, outages }] })).to.throw(
      /overlap/,
    );
    expect(bad({ kmes: [{ id: 'a', port: 1, tls, keySize: 100 }] })).to.throw(/multiples of 8/);
    expect(bad({ kmes: [{ id: 'a', port: 1, tls, keySize: 2048 }] })).to.throw(/minKeySize <= keySize/);
  });

  it('reads an SAE key quota (QKD 015 app_qos) and names the field of a bad one', () => {
    const withQos = (appQos: unknown) => ({ kmes: [{ id: 'a', port: 1, tls, saes: [{ id: 's', appQos }] }] });
    const qos = { maxBandwidth: 2560, burstBits: 4096 };
    expect(parseConfig(withQos(qos), '/').kmes[0]?.saes[0]?.appQos).to.deep.equal(qos);
    const bad = (appQos: unknown) => () => parseConfig(withQos(appQos), '/', 'kme.yaml');
    expect(bad({ maxBandwidth: 0, burstBits: 4096 })).to.throw(
      /at kmes\[0\]\.saes\[0\]\.appQos\.maxBandwidth/,
    );
    expect(bad({ maxBandwidth: 2 ** 32, burstBits: 4096 })).to.throw(/appQos\.maxBandwidth/);
    expect(bad({ maxBandwidth: 2560 })).to.throw(/at kmes\[0\]\.saes\[0\]\.appQos\.burstBits/);
    expect(bad({ maxBandwidth: 2560, burstBits: 128 })).to.throw(
      /kme\.yaml: .*burstBits \(128\) must be at least the KME's key_size \(256 bits\)[\s\S]*at kmes\[0\]\.saes\[0\]\.appQos\.burstBits/,
    );
    expect(bad({ ...qos, max_bandwidth: 1 })).to.throw(/max_bandwidth[\s\S]*at kmes\[0\]\.saes\[0\]\.appQos/);
  });
});
