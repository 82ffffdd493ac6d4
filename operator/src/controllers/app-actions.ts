// The desired action of each MecApp: code resolved (inline or from its ConfigMap, which the cache
// holds only when labelled as action code), then built by desiredAction. Memoised on the inputs'
// resourceVersions, since every context reconcile asks.
import type { MecApp } from '@mecqkd/crds';
import type { Cache, KubeObject } from '@mecqkd/kube/types';
import { type ActionWrapper, type DesiredAction, desiredAction } from '../openwhisk/action.ts';
import { ACTION_CODE_SELECTOR } from './trust.ts';

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

export type ActionResult =
  | { ok: true; action: DesiredAction }
  | {
      ok: false;
      reason: string;
      message: string;
      /** The referenced ConfigMap, when the cache (labelled ConfigMaps only) does not hold it. */
      unseenConfigMap?: string;
    };

export function resolveCode(
  app: MecApp,
  configMaps: Cache<ConfigMap>,
): { code: string; from: string } | { missing: string; unseenConfigMap?: string } {
  const { action } = app.spec;
  if (action.code !== undefined) return { code: action.code, from: 'inline' };
  const ref = action.codeFrom!.configMapKeyRef;
  const key = `${app.metadata.namespace}/${ref.name}`;
  const cm = configMaps.get(key);
  if (!cm) {
    const missing = `ConfigMap ${ref.name} not found among those labelled ${ACTION_CODE_SELECTOR}`;
    return { missing, unseenConfigMap: ref.name };
  }
  const code = cm.data?.[ref.key];
  if (code === undefined) return { missing: `ConfigMap ${ref.name} has no key ${ref.key}` };
  return { code, from: `configmap:${cm.metadata.resourceVersion}` };
}

export class AppActions {
  private readonly memo = new Map<string, { stamp: string; result: ActionResult }>();

  constructor(
    private readonly configMaps: Cache<ConfigMap>,
    private readonly wrap?: ActionWrapper,
  ) {}

  of(app: MecApp): ActionResult {
    const key = `${app.metadata.namespace}/${app.metadata.name}`;
    const code = resolveCode(app, this.configMaps);
    const stamp = `${app.metadata.resourceVersion}|${'from' in code ? code.from : code.missing}`;
    const hit = this.memo.get(key);
    if (hit?.stamp === stamp) return hit.result;
    const result: ActionResult =
      'missing' in code
        ? {
            ok: false,
            reason: 'CodeUnavailable',
            message: `action code of app ${app.metadata.name}: ${code.missing}`,
            ...(code.unseenConfigMap ? { unseenConfigMap: code.unseenConfigMap } : {}),
          }
        : { ok: true, action: desiredAction(app, code.code, this.wrap) };
    this.memo.set(key, { stamp, result });
    return result;
  }

  forget(namespace: string, name: string): void {
    this.memo.delete(`${namespace}/${name}`);
  }
}
