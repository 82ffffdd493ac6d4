// The SSRF policy decides on addresses: internal ranges refused by default, an allow-list replacing
// that default, the cluster API refused regardless, every resolved address checked.
import { expect } from 'chai';
import { RefusedTarget, type Resolve, SsrfPolicy } from '../../src/ssrf.ts';

const names: Record<string, string[]> = {
  'public.example': ['203.0.113.10'],
  'rebind.example': ['203.0.113.10', '127.0.0.1'],
  'mapped.example': ['::ffff:169.254.169.254'],
  'local.example': ['fe80::1'],
};
const resolve: Resolve = async (host) => {
  const a = names[host];
  if (!a) throw new Error('ENOTFOUND');
  return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

async function refused(p: SsrfPolicy, url: string): Promise<string> {
  try {
    await p.check(url);
  } catch (err) {
    expect(err).to.be.instanceOf(RefusedTarget);
    return (err as Error).message;
  }
  throw new Error(`${url} was allowed`);
}

describe('SSRF policy for callbackReference', () => {
  const api = { address: '127.0.0.1', port: 6443 };
  const byDefault = new SsrfPolicy({ allow: [], deny: ['10.96.0.0/12'], protectedEndpoints: [api] }, resolve);
  const loopbackLab = new SsrfPolicy(
    { allow: ['127.0.0.0/8'], deny: [], protectedEndpoints: [api] },
    resolve,
  );

  it('by default refuses loopback, link-local, unspecified, multicast and the extra denied CIDRs', async () => {
    for (const url of [
      'http://127.0.0.1/x',
      'http://127.9.9.9:8080/x',
      'http://[::1]/x',
      'http://169.254.169.254/latest/meta-data',
      'http://[fe80::1]/x',
      'http://0.0.0.0/x',
      'http://224.0.0.1/x',
      'http://10.96.0.1/x',
      'http://[::ffff:127.0.0.1]/x',
    ])
      expect(await refused(byDefault, url), url).to.match(/internal address|cluster API/);
  });

  it('checks every address a name resolves to, IPv4-mapped IPv6 as IPv4', async () => {
    expect(await refused(byDefault, 'http://rebind.example/x')).to.contain('127.0.0.1');
    expect(await refused(byDefault, 'http://mapped.example/x')).to.contain('169.254.169.254');
    expect(await refused(byDefault, 'http://local.example/x')).to.contain('fe80::1');
    expect(await refused(byDefault, 'http://nowhere.example/x')).to.contain('does not resolve');
  });

  it('allows a public address and pins the one it checked', async () => {
    expect(await byDefault.check('https://public.example:8443/cb')).to.include({
      address: '203.0.113.10',
      family: 4,
    });
  });

  it('refuses other schemes and credentials in the URL', async () => {
    expect(await refused(byDefault, 'ftp://public.example/x')).to.contain('http');
    expect(await refused(byDefault, 'file:///etc/passwd')).to.contain('http');
    expect(await refused(byDefault, 'http://u:p@public.example/x')).to.contain('credentials');
  });

  it('with an allow-list allows only inside it, and never the cluster API', async () => {
    expect((await loopbackLab.check('http://127.0.0.1:9999/cb')).address).to.equal('127.0.0.1');
    expect(await refused(loopbackLab, 'http://public.example/x')).to.contain('allow-list');
    expect(await refused(loopbackLab, 'https://127.0.0.1:6443/api/v1/secrets')).to.contain('cluster API');
    // the same endpoint spelt as an IPv4-mapped IPv6 address
    expect(await refused(loopbackLab, 'https://[::ffff:127.0.0.1]:6443/api')).to.contain('cluster API');
  });
});
