// MecApp reconciler: a catalog entry is Ready when its action can be built (code resolved); its
// status names the digest that deployed actions carry, or why its ConfigMap cannot be used. Its
// controller also watches the ConfigMaps apps take their code from.
import { jsonEqual } from '@mecqkd/common/canonical-json';
import type { Logger } from '@mecqkd/common/logger';
import type { MecApp, MecAppStatus } from '@mecqkd/crds';
import { setCondition } from '@mecqkd/kube/conditions';
import { Controller } from '@mecqkd/kube/controller';
import type { Informer } from '@mecqkd/kube/informer';
import type { KubeClient } from '@mecqkd/kube/kube-client';
import { objectKey, objectPath } from '@mecqkd/kube/kube-paths';
import type { Cache, Reconciler } from '@mecqkd/kube/types';
import type { ActionResult, AppActions, ConfigMap } from './app-actions.ts';
import { APPS_BY_CONFIG_MAP } from './appcontext.ts';
import { CONFIG_MAPS, MEC_APPS } from './resources.ts';
import { statusPatch } from './status-patch.ts';
import { ACTION_CODE_SELECTOR, hasActionCodeLabel } from './trust.ts';

export interface MecAppDeps {
  kube: KubeClient;
  apps: Cache<MecApp>;
  appActions: AppActions;
  now: () => number;
}

/** A referenced ConfigMap the cache lacks may exist unlabelled: one GET tells the user which. */
async function explainUnseen(kube: KubeClient, app: MecApp, result: ActionResult): Promise<ActionResult> {
  if (result.ok || !result.unseenConfigMap) return result;
  const name = result.unseenConfigMap;
  const what = `action code of app ${app.metadata.name}: ConfigMap ${name}`;
  const cm = await kube.get<ConfigMap>(objectPath(CONFIG_MAPS, app.metadata.namespace, name));
  if (!cm) return { ok: false, reason: result.reason, message: `${what} not found` };
  if (hasActionCodeLabel(cm)) return result;
  return {
    ok: false,
    reason: 'ConfigMapNotLabelled',
    message: `${what} lacks the label ${ACTION_CODE_SELECTOR}; the operator reads action code only from ConfigMaps labelled so`,
  };
}

export function mecAppReconciler(d: MecAppDeps): Reconciler {
  return async (key) => {
    const app = d.apps.get(key);
    if (!app) {
      const [ns, name] = key.split('/') as [string, string];
      d.appActions.forget(ns, name);
      return undefined;
    }
    const result = await explainUnseen(d.kube, app, d.appActions.of(app));
    const gen = app.metadata.generation ?? 0;
    const conditions = setCondition(
      app.status?.conditions ?? [],
      result.ok
        ? {
            type: 'Ready',
            status: 'True',
            reason: 'ActionResolved',
            message: `deploys as action ${result.action.name}`,
            observedGeneration: gen,
          }
        : {
            type: 'Ready',
            status: 'False',
            reason: result.reason,
            message: result.message,
            observedGeneration: gen,
          },
      new Date(d.now()),
    );
    const status: MecAppStatus = {
      observedGeneration: gen,
      conditions,
      ...(result.ok ? { actionDigest: result.action.digest.slice(0, 64) } : {}),
    };
    if (!jsonEqual(app.status ?? {}, status)) {
      await d.kube.patchStatus(objectPath(MEC_APPS, app.metadata.namespace, app.metadata.name), 'merge', {
        status: statusPatch(app.status, status),
      });
    }
    return undefined;
  };
}

export function mecAppController(
  d: MecAppDeps & { apps: Informer<MecApp>; configMaps: Informer<ConfigMap>; log: Logger },
  workers: number,
): Controller<MecApp> {
  return new Controller<MecApp>({
    name: 'mecapp',
    logger: d.log,
    informer: d.apps,
    workers,
    ignoreStatusOnlyUpdates: true,
    reconciler: mecAppReconciler(d),
  }).watches(d.configMaps, (cm) => d.apps.byIndex(APPS_BY_CONFIG_MAP, objectKey(cm)).map(objectKey));
}
