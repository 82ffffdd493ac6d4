// REST paths of Kubernetes resources: /api/v1/... for the core group, /apis/<group>/<version>/... otherwise.
import type { KubeObject, ObjectKey } from './types.ts';

export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
}

export interface PathParts extends ResourceType {
  namespace?: string;
  name?: string;
  subresource?: string;
}

const segment = (what: string, value: string) => {
  if (value === '' || value.includes('/'))
    throw new Error(`invalid ${what} for a resource path: ${JSON.stringify(value)}`);
  return encodeURIComponent(value);
};

export function resourcePath(p: PathParts): string {
  const root =
    p.group === ''
      ? `/api/${segment('version', p.version)}`
      : `/apis/${segment('group', p.group)}/${segment('version', p.version)}`;
  const ns = p.namespace === undefined ? '' : `/namespaces/${segment('namespace', p.namespace)}`;
  let path = `${root}${ns}/${segment('plural', p.plural)}`;
  if (p.name !== undefined) path += `/${segment('name', p.name)}`;
  else if (p.subresource !== undefined) throw new Error(`subresource ${p.subresource} needs an object name`);
  if (p.subresource !== undefined) path += `/${segment('subresource', p.subresource)}`;
  return path;
}

/** Collection path of a resource, across all namespaces when `namespace` is undefined. */
export function collectionPath(type: ResourceType, namespace?: string): string {
  return resourcePath({ ...type, namespace });
}

/** Path of one object (or of its subresource, e.g. 'status'). */
export function objectPath(
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  subresource?: string,
): string {
  return resourcePath({ ...type, namespace, name, subresource });
}

/** client-go's MetaNamespaceKeyFunc: "namespace/name", or "name" for cluster-scoped objects. */
export function objectKey(obj: Pick<KubeObject, 'metadata'>): ObjectKey {
  const { namespace, name } = obj.metadata;
  return namespace ? `${namespace}/${name}` : name;
}

/** Inverse of objectKey. */
export function splitKey(key: ObjectKey): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** The resource type of an apiVersion such as "mecqkd.io/v1alpha1" or "v1". */
export function resourceType(apiVersion: string, plural: string): ResourceType {
  const i = apiVersion.indexOf('/');
  return i < 0
    ? { group: '', version: apiVersion, plural }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1), plural };
}
