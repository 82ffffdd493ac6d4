// Where a MecHost's OpenWhisk is and how to authenticate there: from the cached MecHost and the
// Secret it names, read when HostActions first needs the host and again on every host pass.
import type { MecHost } from '@mecqkd/crds';
import type { KubeClient } from '@mecqkd/kube/kube-client';
import type { Cache } from '@mecqkd/kube/types';
import type { EndpointResolver } from './host-actions.ts';
import { openwhiskAuth } from './secrets.ts';

export function hostEndpoints(kube: KubeClient, hosts: Cache<MecHost>): EndpointResolver {
  return async (hostKey) => {
    const host = hosts.get(hostKey);
    if (!host) return undefined;
    const { openwhisk } = host.spec;
    return {
      apiHost: openwhisk.apiHost,
      namespace: openwhisk.namespace,
      auth: await openwhiskAuth(kube, host.metadata.namespace!, openwhisk.credentialsSecret.name),
      insecure: openwhisk.insecure,
    };
  };
}
