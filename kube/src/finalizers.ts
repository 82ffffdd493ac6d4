// Adding and removing a finalizer without clobbering other writers: a merge patch that carries the
// observed resourceVersion, so a concurrent change answers 409 and the caller retries from a fresh
// read (the reconcile's rate-limited requeue does that).
import type { KubeClient } from './kube-client.ts';
import type { KubeObject } from './types.ts';

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata.finalizers?.includes(finalizer) ?? false;
}

/** Adds `finalizer` to the object at `path`; undefined when it was already there (nothing written). */
export async function addFinalizer<T extends KubeObject>(
  client: KubeClient,
  path: string,
  obj: T,
  finalizer: string,
): Promise<T | undefined> {
  if (hasFinalizer(obj, finalizer)) return undefined;
  return writeFinalizers(client, path, obj, [...(obj.metadata.finalizers ?? []), finalizer]);
}

/** Removes `finalizer` (only ours: others stay); undefined when it was absent (nothing written). */
export async function removeFinalizer<T extends KubeObject>(
  client: KubeClient,
  path: string,
  obj: T,
  finalizer: string,
): Promise<T | undefined> {
  if (!hasFinalizer(obj, finalizer)) return undefined;
  return writeFinalizers(
    client,
    path,
    obj,
    (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer),
  );
}

function writeFinalizers<T extends KubeObject>(
  client: KubeClient,
  path: string,
  obj: T,
  finalizers: string[],
) {
  const resourceVersion = obj.metadata.resourceVersion;
  if (!resourceVersion) throw new Error(`finalizer write on ${path}: the object has no resourceVersion`);
  return client.patch(path, 'merge', { metadata: { resourceVersion, finalizers } }) as Promise<T>;
}
