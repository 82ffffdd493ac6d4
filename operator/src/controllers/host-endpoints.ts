// Where a MecHost's OpenWhisk is and how to authenticate there: from the cached MecHost and the
// Secret it names, read when HostActions first needs the host and again on every host pass. An
// endpoint the operator may not use (trust.ts) is refused before its Secret is read, on this path
// as on the probe's, so that no deploy sends credentials there either.
import type { MecHost } from '@mecqkd/crds';
import type { KubeClient } from '@mecqkd/kube/kube-client';
import type { Cache } from '@mecqkd/kube/types';
import type { EndpointResolver } from './host-actions.ts';
import { openwhiskAuth } from './secrets.ts';
import { insecureEndpoint } from './trust.ts';

export function hostEndpoints(
  kube: KubeClient,
  hosts: Cache<MecHost>,
  allowInsecureHosts: boolean,
): EndpointResolver {
  return async (hostKey) => {
    const host = hosts.get(hostKey);
    if (!host) return undefined;
    const { openwhisk } = host.spec;
    const insecure = insecureEndpoint(openwhisk);
    if (insecure && !allowInsecureHosts) {
      throw new Error(
        `MecHost ${hostKey}: ${insecure}; refused unless the operator runs with --allow-insecure-hosts`,
      );
    }
    return {
      apiHost: openwhisk.apiHost,
      namespace: openwhisk.namespace,
      auth: await openwhiskAuth(kube, host.metadata.namespace!, openwhisk.credentialsSecret.name),
      insecure: openwhisk.insecure,
      hostSaeId: host.spec.kme.saeId,
    };
  };
}
