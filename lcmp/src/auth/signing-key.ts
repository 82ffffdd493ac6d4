// The token endpoint's signing key lives in a Secret so that every replica signs with the same key
// and tokens survive restarts. The first replica to start without one creates it.

import type { webcrypto } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import type { KubeClient } from '@mecqkd/kube/kube-client';
import { isAlreadyExists } from '@mecqkd/kube/kube-errors';
import { collectionPath, objectPath } from '@mecqkd/kube/kube-paths';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { z } from 'zod';
import type { Secret } from './registry.ts';

const SECRETS = { group: '', version: 'v1', plural: 'secrets' };
export const SIGNING_ALG = 'ES256';
const KEY_FIELD = 'jwk.json';

const privateJwk = z.looseObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  d: z.string(),
  kid: z.string(),
});

export interface SigningKey {
  kid: string;
  privateKey: webcrypto.CryptoKey;
  publicJwk: JWK;
}

async function fromJwk(jwk: z.infer<typeof privateJwk>): Promise<SigningKey> {
  const { d: _d, ...pub } = jwk;
  return {
    kid: jwk.kid,
    privateKey: (await importJWK(jwk, SIGNING_ALG)) as webcrypto.CryptoKey,
    publicJwk: { ...pub, alg: SIGNING_ALG, use: 'sig' },
  };
}

function decode(secret: Secret): z.infer<typeof privateJwk> {
  const raw = secret.data?.[KEY_FIELD];
  if (!raw) throw new Error(`Secret ${secret.metadata.name} has no ${KEY_FIELD}`);
  return privateJwk.parse(JSON.parse(Buffer.from(raw, 'base64').toString('utf8')));
}

export async function loadOrCreateSigningKey(
  kube: KubeClient,
  namespace: string,
  name: string,
): Promise<SigningKey> {
  const existing = await kube.get<Secret>(objectPath(SECRETS, namespace, name));
  if (existing) return fromJwk(decode(existing));
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID() };
  try {
    await kube.create(collectionPath(SECRETS, namespace), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace, labels: { 'app.kubernetes.io/component': 'lcmp' } },
      type: 'Opaque',
      data: { [KEY_FIELD]: Buffer.from(JSON.stringify(jwk)).toString('base64') },
    });
    return fromJwk(privateJwk.parse(jwk));
  } catch (err) {
    // another replica created it first: use that one
    if (!isAlreadyExists(err)) throw err;
    const theirs = await kube.get<Secret>(objectPath(SECRETS, namespace, name));
    if (!theirs) throw new Error(`Secret ${namespace}/${name} vanished after AlreadyExists`);
    return fromJwk(decode(theirs));
  }
}
