// `whisk-sim --tls`: the CLI (as the testbed starts it) serves HTTPS with a self-signed chain that
// the openwhisk client accepts with ignore_certs, and that verifies against the CA it carries.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { expect } from 'chai';
import openwhisk from 'openwhisk';
import { type RunningWhiskSim, startWhiskSim } from '../src/testbed.ts';

function peerChain(url: string): Promise<PeerCertificate[]> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      const chain: PeerCertificate[] = [];
      let cert = socket.getPeerCertificate(true) as PeerCertificate & { issuerCertificate?: PeerCertificate };
      while (cert && !chain.includes(cert)) {
        chain.push(cert);
        cert = cert.issuerCertificate as typeof cert;
      }
      socket.end();
      resolve(chain);
    });
    socket.on('error', reject);
  });
}

describe('whisk-sim --tls (self-signed)', () => {
  let sim: RunningWhiskSim;
  before(async () => {
    sim = await startWhiskSim({
      dir: join(tmpdir(), `whisk-sim-tls-${process.pid}`),
      name: 'whisk-sim-tls',
      tls: true,
    });
  });
  after(() => sim?.stop());

  it('starts, and the openwhisk client works against it with ignore_certs', async () => {
    expect(sim.apiHost).to.match(/^https:/);
    const ow = openwhisk({
      apihost: sim.apiHost,
      api_key: sim.auth,
      namespace: sim.namespace,
      ignore_certs: true,
    });
    expect(await ow.namespaces.list()).to.deep.equal([sim.namespace]);
  });

  it('serves the leaf and its CA as a chain', async () => {
    const chain = await peerChain(sim.apiHost);
    expect(chain.map((c) => c.subject.CN)).to.deep.equal(['whisk-sim', 'whisk-sim self-signed CA']);
  });
});
