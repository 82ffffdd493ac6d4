// What the operator agrees to use on behalf of whoever writes its custom resources: only Secrets
// labelled for mecqkd, only TLS-verified endpoints (unless started with --allow-insecure-hosts), and
// only ConfigMaps labelled as action code. A user who may write MecHosts but not read Secrets thus
// cannot make the operator send an arbitrary Secret to a URL of their choice.
import type { MecHostSpec } from '@mecqkd/crds';
import type { KubeObject } from '@mecqkd/kube/types';

/** Label on the Secrets the operator may use; its value names the use. */
export const CREDENTIALS_LABEL = 'mecqkd.io/credentials';
export type CredentialUse = 'openwhisk' | 'kme';

/** Label on the ConfigMaps holding action code: the only ConfigMaps the operator caches. */
export const ACTION_CODE_LABEL = 'mecqkd.io/action-code';
export const ACTION_CODE_SELECTOR = `${ACTION_CODE_LABEL}=true`;

/** Condition reasons of a refusal: the object stays not Ready and a Warning Event says why. */
export const SECRET_NOT_PERMITTED = 'SecretNotPermitted';
export const INSECURE_ENDPOINT = 'InsecureEndpoint';

/** Why the Secret may not be used for `use`, or undefined when it may. */
export function credentialRefusal(secret: KubeObject, use: CredentialUse): string | undefined {
  if (secret.metadata.labels?.[CREDENTIALS_LABEL] === use) return undefined;
  const { namespace, name } = secret.metadata;
  return `Secret ${namespace}/${name} is not labelled ${CREDENTIALS_LABEL}=${use}; the operator uses only Secrets labelled for it`;
}

/** Why the host's OpenWhisk endpoint would go unverified (plain HTTP or TLS unchecked), if it would. */
export function insecureEndpoint(openwhisk: Pick<MecHostSpec['openwhisk'], 'apiHost' | 'insecure'>) {
  if (openwhisk.insecure) return 'spec.openwhisk.insecure skips TLS verification';
  if (!/^https:/i.test(openwhisk.apiHost)) return `spec.openwhisk.apiHost ${openwhisk.apiHost} is plain HTTP`;
  return undefined;
}

export const hasActionCodeLabel = (cm: KubeObject) => cm.metadata.labels?.[ACTION_CODE_LABEL] === 'true';
