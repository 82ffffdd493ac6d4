// Which Secrets the operator uses: only those labelled for the use, in the referencing object's namespace.
import type { KubeClient } from '@mecqkd/kube/kube-client';
import { objectPath } from '@mecqkd/kube/kube-paths';
import type { KubeObject } from '@mecqkd/kube/types';
import { expect } from 'chai';
import { SECRETS } from '../../src/controllers/resources.ts';
import { openwhiskAuth, SecretError, tlsMaterial } from '../../src/controllers/secrets.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function secrets(...items: KubeObject[]): KubeClient {
  const byPath = new Map(items.map((s) => [objectPath(SECRETS, s.metadata.namespace, s.metadata.name), s]));
  return { get: async (path: string) => byPath.get(path) } as unknown as KubeClient;
}

function secret(name: string, data: Record<string, string>, labels?: Record<string, string>): KubeObject {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)]));
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'ns', ...(labels ? { labels } : {}) },
    data: encoded,
  };
}

async function refusal(p: Promise<unknown>): Promise<SecretError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).to.be.instanceOf(SecretError);
  return err as SecretError;
}

const TLS = { 'tls.crt': 'CERT', 'tls.key': 'KEY', 'ca.crt': 'CA' };
const AUTH = { auth: 'uuid:key' };

describe('credential Secrets', () => {
  it('uses a Secret labelled mecqkd.io/credentials for its use', async () => {
    const kube = secrets(
      secret('ow', AUTH, { 'mecqkd.io/credentials': 'openwhisk' }),
      secret('sae', TLS, { 'mecqkd.io/credentials': 'kme' }),
    );
    expect(await openwhiskAuth(kube, 'ns', 'ow')).to.equal('uuid:key');
    expect(await tlsMaterial(kube, 'ns', 'sae')).to.deep.equal({ cert: 'CERT', key: 'KEY', ca: 'CA' });
  });

  it('refuses an unlabelled Secret, and one labelled for another use, naming the label', async () => {
    const kube = secrets(
      secret('db-password', AUTH),
      secret('ingress-tls', TLS, { app: 'web' }),
      secret('both', { ...AUTH, ...TLS }, { 'mecqkd.io/credentials': 'kme' }),
    );
    for (const p of [
      openwhiskAuth(kube, 'ns', 'db-password'),
      tlsMaterial(kube, 'ns', 'ingress-tls'),
      openwhiskAuth(kube, 'ns', 'both'),
    ]) {
      const err = await refusal(p);
      expect(err.reason).to.equal('SecretNotPermitted');
      expect(err.message).to.match(/mecqkd\.io\/credentials=(openwhisk|kme)/);
    }
  });

  it('reads nothing outside the given namespace', async () => {
    const other = secret('ow', AUTH, { 'mecqkd.io/credentials': 'openwhisk' });
    other.metadata.namespace = 'other';
    expect((await refusal(openwhiskAuth(secrets(other), 'ns', 'ow'))).reason).to.equal('SecretNotFound');
  });
});
