// A KME in a pod binds one address (0.0.0.0) and is reached under another (its Service name), and
// its ops port may be opened beyond loopback: listenHost and opsHost keep the two apart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@mecqkd/common/ports';
import { expect } from 'chai';
import { writeCerts } from '../src/certs.ts';
import { parseConfig } from '../src/config.ts';
import { startKmes } from '../src/kme.ts';

describe('kme-sim listen addresses', () => {
  it('binds listenHost and opsHost while advertising host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kme-listen-'));
    try {
      const certs = await writeCerts(dir, { kmes: [{ id: 'kme-a' }], saes: [] });
      const [port, opsPort] = [await freePort(), await freePort()];
      const config = parseConfig(
        {
          kmes: [
            {
              id: 'kme-a',
              host: 'kme-a.lab.svc.invalid',
              listenHost: '127.0.0.1',
              port,
              opsPort,
              opsHost: '127.0.0.1',
              tls: { cert: certs.kmes['kme-a']!.cert, key: certs.kmes['kme-a']!.key, ca: certs.ca },
            },
          ],
        },
        dir,
      );
      const [kme] = await startKmes(config);
      try {
        expect(kme!.url).to.equal(`https://kme-a.lab.svc.invalid:${port}`);
        expect((await fetch(`http://127.0.0.1:${opsPort}/healthz`)).ok).to.equal(true);
      } finally {
        await kme!.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
