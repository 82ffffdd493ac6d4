// Small builders of mecqkd objects for controller unit tests.
import {
  type AppContext,
  appContext,
  type MecApp,
  type MecHost,
  mecApp,
  mecHost,
  type QkdLink,
  qkdLink,
} from '@mecqkd/crds';

export function app(name: string, over: Record<string, unknown> = {}): MecApp {
  return mecApp.parse({
    apiVersion: 'mecqkd.io/v1alpha1',
    kind: 'MecApp',
    metadata: { name, namespace: 'ns', resourceVersion: '1', generation: 1 },
    spec: {
      appInfo: {
        appDId: name,
        appName: name,
        appProvider: 'p',
        appSoftVersion: '1',
        appDVersion: '1',
        appDescription: 'd',
      },
      action: { code: 'function main(p) { return p; }' },
      ...over,
    },
  });
}

export function host(name: string, kmeId: string, status: Record<string, unknown> = {}): MecHost {
  return mecHost.parse({
    apiVersion: 'mecqkd.io/v1alpha1',
    kind: 'MecHost',
    metadata: { name, namespace: 'ns', generation: 1 },
    spec: {
      openwhisk: { apiHost: `http://127.0.0.1:1/${name}`, credentialsSecret: { name: `${name}-ow` } },
      kme: {
        url: 'https://127.0.0.1:2',
        kmeId,
        saeId: `SAE_${name}`,
        credentialsSecret: { name: `${name}-sae` },
      },
      capacity: { memoryMb: 1024 },
    },
    status,
  });
}

export function link(name: string, a: string, b: string, status: Record<string, unknown> = {}): QkdLink {
  return qkdLink.parse({
    apiVersion: 'mecqkd.io/v1alpha1',
    kind: 'QkdLink',
    metadata: { name, namespace: 'ns', generation: 1 },
    spec: {
      source: { kmeId: a, url: 'https://127.0.0.1:3' },
      target: { kmeId: b, url: 'https://127.0.0.1:4' },
      secretKeyRate: 1e5,
    },
    status,
  });
}

let seq = 0;
export function context(appName: string, status?: Record<string, unknown>, rv = String(++seq)): AppContext {
  return appContext.parse({
    apiVersion: 'mecqkd.io/v1alpha1',
    kind: 'AppContext',
    metadata: {
      name: (seq++).toString(16).padStart(32, '0'),
      namespace: 'ns',
      resourceVersion: rv,
      generation: 1,
    },
    spec: { appName, associateDevAppId: 'dev', client: { kmeId: 'KME_C', saeId: 'SAE_C' } },
    ...(status ? { status } : {}),
  });
}

export function placed(
  host: string,
  action: string,
  placedTime = '2026-01-01T00:00:00Z',
  keyPath = ['KME_C', 'KME_H1'],
) {
  return { phase: 'Placed' as const, host, appInstanceId: `${host}/${action}`, keyPath, placedTime };
}

export const key = (o: { metadata: { namespace?: string; name: string } }) =>
  `${o.metadata.namespace}/${o.metadata.name}`;
