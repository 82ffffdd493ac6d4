// Reads the Secrets a MecHost or QkdLink points at, in its own namespace and only when labelled for
// the use (trust.ts). Never logged, never copied into status.
import type { KubeClient } from '@mecqkd/kube/kube-client';
import { objectPath } from '@mecqkd/kube/kube-paths';
import type { KubeObject } from '@mecqkd/kube/types';
import type { TlsMaterial } from './probes.ts';
import { SECRETS } from './resources.ts';
import { type CredentialUse, credentialRefusal, SECRET_NOT_PERMITTED } from './trust.ts';

interface Secret extends KubeObject {
  data?: Record<string, string>;
}

export class SecretError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

async function secretData(
  kube: KubeClient,
  namespace: string,
  name: string,
  use: CredentialUse,
  keys: string[],
): Promise<Record<string, string>> {
  const secret = await kube.get<Secret>(objectPath(SECRETS, namespace, name));
  if (!secret) throw new SecretError('SecretNotFound', `Secret ${namespace}/${name} not found`);
  const refusal = credentialRefusal(secret, use);
  if (refusal) throw new SecretError(SECRET_NOT_PERMITTED, refusal);
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = secret.data?.[k];
    if (v === undefined)
      throw new SecretError('SecretIncomplete', `Secret ${namespace}/${name} has no key ${k}`);
    out[k] = Buffer.from(v, 'base64').toString('utf8');
  }
  return out;
}

/** OpenWhisk API key (UUID:KEY) from key "auth". */
export async function openwhiskAuth(kube: KubeClient, namespace: string, name: string): Promise<string> {
  const { auth } = await secretData(kube, namespace, name, 'openwhisk', ['auth']);
  if (!/^[^:\s]+:[^:\s]+$/.test(auth!.trim())) {
    throw new SecretError('SecretInvalid', `Secret ${namespace}/${name}: key auth must be UUID:KEY`);
  }
  return auth!.trim();
}

/** Client certificate, key and CA (tls.crt, tls.key, ca.crt) for mutual TLS with a KME. */
export async function tlsMaterial(kube: KubeClient, namespace: string, name: string): Promise<TlsMaterial> {
  const d = await secretData(kube, namespace, name, 'kme', ['tls.crt', 'tls.key', 'ca.crt']);
  return { cert: d['tls.crt']!, key: d['tls.key']!, ca: d['ca.crt']! };
}
