// The ActionWrapper that makes every deployed action a secure-invocation web action (host-sae's
// wrapper), configured from the operator's flags. Without them actions deploy unwrapped, which is
// only good for tests of the control plane itself: such actions are not web-exported, so their
// referenceURI answers 404 rather than running on plaintext.
import { readFileSync } from 'node:fs';
import { wrapAction, wrapperRuntime } from '@mecqkd/host-sae/wrapper/bundle';
import type { OperatorConfig } from '../config.ts';
import type { ActionWrapper } from './action.ts';

export function secureWrapper(
  cfg: Pick<OperatorConfig, 'wrapperSecretFile' | 'hostSaeCaFile'>,
): ActionWrapper | undefined {
  if (!cfg.wrapperSecretFile && !cfg.hostSaeCaFile) return undefined;
  if (!cfg.wrapperSecretFile || !cfg.hostSaeCaFile)
    throw new Error('--wrapper-secret-file and --host-sae-ca-file go together');
  const wrapperSecret = readFileSync(cfg.wrapperSecretFile, 'utf8').trim();
  const hostSaeCa = readFileSync(cfg.hostSaeCaFile, 'utf8');
  // Bundle now: done lazily, the first placement would stall the event loop for it.
  wrapperRuntime();
  return (body, app) =>
    wrapAction(body, { wrapperSecret, hostSaeCa, invocationsPerKey: app.spec.placement.invocationsPerKey });
}
