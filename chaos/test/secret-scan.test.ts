// The secret scan finds a secret in any of its spellings and names where, and finds PEM private keys.
import { expect } from 'chai';
import { scan, spellings } from '../src/secret-scan.ts';

describe('secret scan', () => {
  const key = Buffer.alloc(32, 7).toString('base64');

  it('finds a key as given, in hex and in base64url, with its line', () => {
    for (const s of spellings({ kind: 'QKD key', value: key })) {
      const hits = scan(
        [{ where: 'x.log', text: `first\nsecond ${s}\n` }],
        [{ kind: 'QKD key', value: key }],
      );
      expect(hits).to.deep.equal([{ where: 'x.log', kind: 'QKD key', line: 2 }]);
    }
  });

  it('finds PEM private keys and nothing in clean text', () => {
    const pem = '-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----';
    expect(scan([{ where: 'm', text: pem }], [])).to.deep.equal([
      { where: 'm', kind: 'private key', line: 1 },
    ]);
    expect(scan([{ where: 'm', text: 'keyId=abc ok' }], [{ kind: 'QKD key', value: key }])).to.deep.equal([]);
  });
});
