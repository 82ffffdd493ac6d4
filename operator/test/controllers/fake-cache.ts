// A Cache over a fixed set of objects: what the decide functions read, without an informer.
import type { Cache, KubeObject } from '@mecqkd/kube/types';

export function fakeCache<T extends KubeObject>(...objects: T[]): Cache<T> {
  const byKey = new Map(objects.map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o]));
  const list = (namespace?: string) =>
    objects.filter((o) => namespace === undefined || o.metadata.namespace === namespace);
  return { get: (key) => byKey.get(key), list, values: list, hasSynced: () => true };
}
