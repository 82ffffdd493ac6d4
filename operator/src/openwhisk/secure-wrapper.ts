// The ActionWrapper that makes every deployed action a secure-invocation web action (host-sae's
// wrapper), configured from the operator's flags, and the HostBinder that gives the action on each
// host that host's own wrapper secret, derived from the master in --wrapper-secret-file (which never
// leaves the operator). Without the flags actions deploy unwrapped, which is only good for tests of
// the control plane itself: such actions are not web-exported, so their referenceURI answers 404
// rather than running on plaintext.
import { readFileSync } from 'node:fs';
import { bindWrapperSecret, wrapAction, wrapperRuntime } from '@mecqkd/host-sae/wrapper/bundle';
import { hostWrapperSecret, masterSecretId } from '@mecqkd/host-sae/wrapper-secret';
import type { OperatorConfig } from '../config.ts';
import type { ActionWrapper, HostBinder } from './action.ts';

/** Annotation naming the master the action's host secrets derive from: a new master, new actions. */
export const WRAPPER_SECRET_ID_ANNOTATION = 'mecqkd.io/wrapper-secret-id';

export function secureWrapper(
  cfg: Pick<OperatorConfig, 'wrapperSecretFile' | 'hostSaeCaFile'>,
): { wrap: ActionWrapper; bindHost: HostBinder } | undefined {
  if (!cfg.wrapperSecretFile && !cfg.hostSaeCaFile) return undefined;
  if (!cfg.wrapperSecretFile || !cfg.hostSaeCaFile)
    throw new Error('--wrapper-secret-file and --host-sae-ca-file go together');
  const master = readFileSync(cfg.wrapperSecretFile, 'utf8').trim();
  if (master.length < 32)
    throw new Error(`the wrapper master secret in ${cfg.wrapperSecretFile} is shorter than 32 characters`);
  const hostSaeCa = readFileSync(cfg.hostSaeCaFile, 'utf8');
  const secretId = masterSecretId(master);
  // Bundle now: done lazily, the first placement would stall the event loop for it.
  wrapperRuntime();
  return {
    wrap: (body, app) => {
      const wrapped = wrapAction(body, {
        hostSaeCa,
        invocationsPerKey: app.spec.placement.invocationsPerKey,
        expectedInvocationsPerSecond: app.spec.placement.expectedInvocationsPerSecond,
      });
      return {
        ...wrapped,
        annotations: [...wrapped.annotations, { key: WRAPPER_SECRET_ID_ANNOTATION, value: secretId }],
      };
    },
    bindHost: (body, host) => bindWrapperSecret(body, hostWrapperSecret(master, host)),
  };
}
