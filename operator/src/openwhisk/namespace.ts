// Which OpenWhisk namespace a MecHost's actions live in. `_` (the CRD default) means "the namespace
// of the credentials" on the REST API, but a web action URL must name the namespace itself: OpenWhisk
// looks the URL's first segment up as a namespace and answers 404 for `_`. So the host probe resolves
// `_` with GET /api/v1/namespaces (the key's own namespace) and records it in the MecHost's status.
import type { MecHost } from '@mecqkd/crds';

export const NAMESPACE_ALIAS = '_';

export type Resolution = { ok: true; namespace: string } | { ok: false; message: string };

/** The namespace `spec` names, given what GET /api/v1/namespaces listed for the host's key. */
export function resolveNamespace(spec: string, listed: string[]): Resolution {
  if (spec !== NAMESPACE_ALIAS) return { ok: true, namespace: spec };
  if (listed.length === 1) return { ok: true, namespace: listed[0] as string };
  return {
    ok: false,
    message:
      listed.length === 0
        ? 'spec.openwhisk.namespace is "_" but GET /api/v1/namespaces lists no namespace for the key'
        : `spec.openwhisk.namespace is "_" but the key has several namespaces (${listed.join(', ')}); name one`,
  };
}

/** The real namespace of the host's actions, for web action URLs; undefined until `_` is resolved. */
export function openwhiskNamespaceOf(host: MecHost): string | undefined {
  const spec = host.spec.openwhisk.namespace;
  return spec === NAMESPACE_ALIAS ? host.status?.openwhiskNamespace : spec;
}
