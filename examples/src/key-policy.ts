// The key-use policy a hospital model's MecApp declares (examples/manifests, the catalog the
// hospital applied): N invocations per key, and the expected invocations/s its key allowance derives
// from. Mx2 carries neither, so a client app takes them from the catalog it ships with; the SDK paces
// its keys to that allowance, and the host SAE enforces the same one from the deployed action.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const MANIFESTS = join(import.meta.dirname, '..', 'manifests');

export interface KeyPolicy {
  invocationsPerKey: number;
  expectedInvocationsPerSecond: number;
}

/** The policy of the app named `appName` (e.g. cardio-risk → manifests/mecapp-cardio.yaml). */
export function keyPolicy(appName: string): KeyPolicy {
  const doc = parse(readFileSync(join(MANIFESTS, `mecapp-${appName.replace(/-risk$/, '')}.yaml`), 'utf8'));
  const p = doc.spec.placement ?? {};
  // the CRD's defaults, as the operator applies them
  return {
    invocationsPerKey: p.invocationsPerKey ?? 1,
    expectedInvocationsPerSecond: p.expectedInvocationsPerSecond ?? 1,
  };
}
