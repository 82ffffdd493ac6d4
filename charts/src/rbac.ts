// What each component does with the Kubernetes API, read from its code (kube/, operator/src,
// lcmp/src): the chart's Roles must grant exactly this. `resourceNames` narrows a rule to objects
// whose names the chart fixes (the Leases, the token signing key).
export interface Permission {
  group: string;
  resource: string;
  verbs: string[];
  resourceNames?: string[];
}

const mecqkd = (resource: string, verbs: string[]): Permission => ({ group: 'mecqkd.io', resource, verbs });
const lease = (name: string): Permission[] => [
  { group: 'coordination.k8s.io', resource: 'leases', verbs: ['create'] },
  { group: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'update'], resourceNames: [name] },
];

export function operatorPermissions(fullname: string): Permission[] {
  return [
    // informers (list, watch); finalizers by merge patch on the kinds whose deletion needs clean-up
    mecqkd('appcontexts', ['list', 'watch', 'patch']),
    mecqkd('mechosts', ['list', 'watch', 'patch']),
    mecqkd('mecapps', ['list', 'watch']),
    mecqkd('qkdlinks', ['list', 'watch']),
    // an AppContext's status is replaced whole (KubeClient.replaceStatus, resourceVersion-guarded);
    // the other kinds' status is merge-patched
    mecqkd('appcontexts/status', ['update']),
    ...['mecapps', 'mechosts', 'qkdlinks'].map((k) => mecqkd(`${k}/status`, ['patch'])),
    { group: '', resource: 'secrets', verbs: ['get'] },
    { group: '', resource: 'configmaps', verbs: ['get', 'list', 'watch'] },
    { group: 'events.k8s.io', resource: 'events', verbs: ['create', 'patch'] },
    ...lease(`${fullname}-operator`),
  ];
}

export function lcmpPermissions(fullname: string): Permission[] {
  return [
    mecqkd('appcontexts', ['get', 'list', 'watch', 'create', 'patch', 'delete']),
    mecqkd('mecapps', ['list', 'watch']),
    mecqkd('mechosts', ['list', 'watch']),
    ...lease(`${fullname}-lcmp-notifier`),
  ];
}

/** The lab's pre-delete hook (operator/src/release-cleanup.ts): lists and deletes its MecHosts and QkdLinks. */
export function releaseCleanupPermissions(): Permission[] {
  return [mecqkd('mechosts', ['list', 'delete']), mecqkd('qkdlinks', ['list', 'delete'])];
}

/** The post-delete hook: deletes the two Leases the operator and the LCMP made at run time. */
export function leaseCleanupPermissions(fullname: string): Permission[] {
  return [
    {
      group: 'coordination.k8s.io',
      resource: 'leases',
      verbs: ['delete'],
      resourceNames: [`${fullname}-operator`, `${fullname}-lcmp-notifier`],
    },
  ];
}

/** The LCMP's rights in its credentials namespace: client registrations, JWKS, the signing key. */
export function lcmpCredentialsPermissions(fullname: string, tokenEndpoint: boolean): Permission[] {
  return [
    { group: '', resource: 'secrets', verbs: ['list', 'watch'] },
    ...(tokenEndpoint
      ? [
          { group: '', resource: 'secrets', verbs: ['create'] },
          {
            group: '',
            resource: 'secrets',
            verbs: ['get'],
            resourceNames: [`${fullname}-lcmp-token-signing-key`],
          },
        ]
      : []),
  ];
}
