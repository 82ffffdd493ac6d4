// AppContext: one client app's session (ETSI MEC 016 AppContext); the operator records where it runs.
import { z } from 'zod';
import { withRules } from '../cel.ts';
import {
  AGE_COLUMN,
  conditions,
  dnsSubdomain,
  httpUrl,
  locationConstraints,
  observedGeneration,
  qkdId,
  READY_COLUMN,
  timestamp,
} from '../common.ts';

export const APP_CONTEXT_PHASES = ['Pending', 'Placed', 'Migrating', 'Rejected', 'Terminating'] as const;
export const appContextPhase = z.enum(APP_CONTEXT_PHASES);

export const appContextSpec = withRules(
  z.object({
    appName: dnsSubdomain('Name of the MecApp (catalog entry) in the same namespace.'),
    associateDevAppId: z
      .string()
      .min(1)
      .max(32)
      .describe('Identifier of the device application that owns this context (ETSI GS MEC 016).'),
    callbackReference: httpUrl(
      'URI where the device application receives notifications about this context.',
    ).optional(),
    appLocationUpdates: z
      .boolean()
      .default(false)
      .describe('The device application wants notifications when a requested location becomes available.'),
    appAutoInstantiation: z
      .boolean()
      .default(false)
      .describe('Instantiate the application when a requested location becomes available.'),
    appLocation: locationConstraints.optional().describe('Location the device application asked for.'),
    client: z
      .object({
        kmeId: qkdId('KME ID of the KME in the client security perimeter.'),
        saeId: qkdId('SAE ID of the client-side SAE that encrypts arguments and decrypts results.'),
      })
      .describe('The client side of the QKD-secured invocation.'),
  }),
  [
    {
      rule: 'self.appName == oldSelf.appName',
      message: 'appName is immutable',
      field: '.appName',
    },
    {
      rule: 'self.client == oldSelf.client',
      message: 'client is immutable',
      field: '.client',
    },
  ],
  // Spec and status are each written whole by one owner (the LCMP, the operator; the LCMP's rare
  // Delivered condition aside), so each is owned as one field: per-field managedFields were about a
  // fifth of the stored object, decoded and re-encoded by the apiserver with every write and watch
  // event of every context (issue 11).
  { description: 'Desired state of a client application context.', 'x-kubernetes-map-type': 'atomic' },
);

export const migrationRecord = z
  .object({
    from: dnsSubdomain('Host the context left.'),
    to: dnsSubdomain('Host the context moved to.'),
    reason: z.string().min(1).max(64).describe('Why it moved, in CamelCase (e.g. HostOverloaded, KeysLow).'),
    time: timestamp('When the context moved.'),
  })
  .describe('One migration of the context between hosts.');

export const appContextStatus = z
  .object({
    observedGeneration: observedGeneration.optional(),
    conditions: conditions.optional(),
    phase: appContextPhase
      .optional()
      .describe('Lifecycle phase: Pending, Placed, Migrating, Rejected or Terminating.'),
    host: dnsSubdomain('MecHost serving this context.').optional(),
    referenceURI: httpUrl(
      'Invocation URL of the action on the serving host (ETSI GS MEC 016 referenceURI).',
    ).optional(),
    appInstanceId: z
      .string()
      .max(128)
      .optional()
      .describe('Identifier of the application instance (the action on the host).'),
    hostKmeId: qkdId('KME ID of the serving host.').optional(),
    hostSaeId: qkdId('SAE ID the client requests keys for (the serving host action wrapper).').optional(),
    keyPath: z
      .array(qkdId('A KME ID.'))
      .min(2)
      .max(8)
      .optional()
      .describe(
        'KMEs the QKD keys of this context travel through, client KME first, host KME last (relays between).',
      ),
    placedTime: timestamp('When the context was last placed or moved.').optional(),
    migrations: z
      .array(migrationRecord)
      .max(20)
      .optional()
      .describe('Most recent migrations, oldest first (at most 20 kept).'),
  })
  .meta({
    description: 'Observed state of a client application context.',
    'x-kubernetes-map-type': 'atomic',
  });

export const appContextDescriptor = {
  kind: 'AppContext',
  plural: 'appcontexts',
  singular: 'appcontext',
  shortNames: ['actx', 'appctx'],
  description: 'One client application session (ETSI GS MEC 016 AppContext) and the host serving it.',
  spec: appContextSpec,
  status: appContextStatus,
  rootRules: [
    {
      rule: "self.metadata.name.matches('^[0-9a-f]{32}$')",
      message: 'metadata.name must be the MEC 016 contextId: 32 lowercase hexadecimal characters',
    },
  ],
  printerColumns: [
    { name: 'App', type: 'string', jsonPath: '.spec.appName', description: 'MecApp' },
    { name: 'Host', type: 'string', jsonPath: '.status.host', description: 'Serving MecHost' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Lifecycle phase' },
    READY_COLUMN,
    {
      name: 'Reason',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
      description: 'Reason of the Ready condition',
      priority: 1,
    },
    AGE_COLUMN,
  ],
} as const;

export type AppContextSpec = z.infer<typeof appContextSpec>;
export type AppContextStatus = z.infer<typeof appContextStatus>;
export type AppContextPhase = z.infer<typeof appContextPhase>;
export type MigrationRecord = z.infer<typeof migrationRecord>;
