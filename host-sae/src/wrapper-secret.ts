// Per-host wrapper secrets. The operator holds one master secret (--wrapper-secret-file) and never
// deploys it: the actions on a MEC host, and that host's SAE, get only
//   base64url(HMAC-SHA256(master, "mecqkd wrapper secret v1\n<MecHost namespace>/<host SAE ID>"))
// HMAC is a PRF: one host's secret (read by whoever holds that host's namespace key, or taken from
// its SAE) tells nothing about another's, and opens no other host's SAE.
import { createHash, createHmac } from 'node:crypto';

export interface WrapperSecretScope {
  /** Kubernetes namespace of the MecHost. */
  namespace: string;
  /** The host SAE's ID (MecHost spec.kme.saeId), which its SAE is configured with. */
  saeId: string;
}

export function hostWrapperSecret(master: string, scope: WrapperSecretScope): string {
  return createHmac('sha256', master)
    .update(`mecqkd wrapper secret v1\n${scope.namespace}/${scope.saeId}`)
    .digest('base64url');
}

/** A public name of the master (a hash; reveals nothing): part of every wrapped action's digest. */
export function masterSecretId(master: string): string {
  return createHash('sha256').update(`mecqkd wrapper master id v1\n${master}`).digest('hex').slice(0, 16);
}
