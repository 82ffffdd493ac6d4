// MecApp: a catalog entry — ETSI MEC 016 appInfo, the OpenWhisk action to deploy, placement constraints.
import { z } from 'zod';
import { withRules } from '../cel.ts';
import {
  AGE_COLUMN,
  conditions,
  dnsSubdomain,
  fraction,
  locationConstraints,
  observedGeneration,
  READY_COLUMN,
} from '../common.ts';

const appCharcs = z
  .object({
    memory: z.int().min(0).max(4_294_967_295).optional().describe('Maximum memory in MB.'),
    storage: z.int().min(0).max(4_294_967_295).optional().describe('Maximum storage in MB.'),
    latency: z.int().min(0).max(4_294_967_295).optional().describe('Target round-trip time in milliseconds.'),
    bandwidth: z
      .int()
      .min(0)
      .max(4_294_967_295)
      .optional()
      .describe('Required connection bandwidth in kbit/s.'),
    serviceCont: z
      .int()
      .min(0)
      .max(1)
      .optional()
      .describe('Service continuity: 0 not required, 1 required (ETSI GS MEC 016).'),
  })
  .describe('Application characteristics (ETSI GS MEC 016 appCharcs).');

export const appInfo = z
  .object({
    appDId: z
      .string()
      .min(1)
      .max(256)
      .describe('Application descriptor ID (AppD appDId, ETSI GS MEC 010-2).'),
    appName: z.string().min(1).max(32).describe('Name of the application.'),
    appProvider: z.string().min(1).max(32).describe('Provider of the application.'),
    appSoftVersion: z.string().min(1).max(32).describe('Software version of the application.'),
    appDVersion: z.string().min(1).max(32).describe('Version of the application descriptor.'),
    appDescription: z.string().max(128).describe('Human-readable description of the application.'),
    appCharcs: appCharcs.optional(),
    appLocation: z
      .array(locationConstraints)
      .max(16)
      .optional()
      .describe('Locations where the application can be instantiated.'),
  })
  .describe('Application information shown in the ETSI GS MEC 016 ApplicationList.');

const configMapKeyRef = z
  .object({
    name: dnsSubdomain(
      'Name of the ConfigMap in the same namespace; it must be labelled mecqkd.io/action-code=true.',
    ),
    key: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[-._a-zA-Z0-9]+$/)
      .describe('Key of the ConfigMap entry that holds the code.'),
  })
  .describe('A ConfigMap entry in the same namespace.');

export const actionSpec = withRules(
  z.object({
    kind: z
      .enum(['nodejs:18', 'nodejs:20', 'nodejs:22'])
      .default('nodejs:20')
      .describe('OpenWhisk runtime kind of the action.'),
    code: z.string().max(262_144).optional().describe('Source of the action, inline.'),
    codeFrom: z
      .object({ configMapKeyRef })
      .optional()
      .describe('Where to read the source of the action when it is not inline.'),
    main: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/)
      .default('main')
      .describe('Name of the exported function OpenWhisk invokes.'),
    limits: z
      .object({
        timeoutMs: z.int().min(100).max(300_000).default(60_000).describe('Per-activation timeout in ms.'),
        memoryMb: z
          .int()
          .min(128)
          .max(2048)
          .default(256)
          .describe('Memory of one container of the action in MB.'),
        concurrency: z.int().min(1).max(500).default(1).describe('Activations one container runs at once.'),
      })
      .prefault({})
      .describe('OpenWhisk limits of the action.'),
    parameters: z.record(z.string(), z.unknown()).optional().meta({
      description:
        'Default parameters bound to the action (never secrets: parameters are visible to API users).',
      'x-kubernetes-preserve-unknown-fields': true,
    }),
  }),
  [
    {
      rule: 'has(self.code) != has(self.codeFrom)',
      message: 'exactly one of code and codeFrom must be set',
      field: '.code',
      reason: 'FieldValueRequired',
      check: (a) => (a.code !== undefined) !== (a.codeFrom !== undefined),
    },
  ],
  { description: 'The OpenWhisk action that serves this application.' },
);

export const placementSpec = z
  .object({
    hostSelector: z
      .record(z.string().max(317), z.string().max(63))
      // the runtime twin of the CEL rule below (the operator and the LCMP enforce it too)
      .refine((s) => Object.keys(s).length <= 32, { message: 'at most 32 host selector labels' })
      .optional()
      .meta({
        description: 'Labels a MecHost must carry to serve this application (all must match).',
        'x-kubernetes-validations': [
          {
            rule: 'self.size() <= 32',
            message: 'at most 32 host selector labels',
          },
        ],
      }),
    maxLoad: fraction('Highest platform load of a host this application may be placed on.').default(0.8),
    minKeyAvailability: fraction(
      'Lowest key availability of the QKD path to a host this application may use.',
    ).default(0.1),
    expectedInvocationsPerSecond: z
      .number()
      .min(0)
      .max(100_000)
      .default(1)
      .describe('Invocations per second one context is expected to make: its demand on load and keys.'),
    invocationsPerKey: z
      .int()
      .min(1)
      .max(1_000_000)
      .default(1)
      .describe('Key-use policy: invocations encrypted with one QKD key before a fresh key is taken.'),
    keySizeBits: z
      .literal([128, 256])
      .default(256)
      .describe('Size of the QKD key per envelope in bits (AES-128 or AES-256).'),
  })
  .prefault({})
  .describe('Constraints on where contexts of this application are placed.');

export const mecAppSpec = z
  .object({
    appInfo,
    action: actionSpec,
    placement: placementSpec,
  })
  .describe('A catalog entry of the MEC system.');

export const mecAppStatus = z
  .object({
    observedGeneration: observedGeneration.optional(),
    conditions: conditions.optional(),
    actionDigest: z
      .string()
      .max(64)
      .optional()
      .describe('Digest of the action code and settings; part of the deployed action name.'),
  })
  .describe('Observed state of a catalog entry.');

export const mecAppDescriptor = {
  kind: 'MecApp',
  plural: 'mecapps',
  singular: 'mecapp',
  shortNames: ['ma'],
  description:
    'A MEC application catalog entry: ETSI MEC 016 appInfo, the OpenWhisk action, placement constraints.',
  spec: mecAppSpec,
  status: mecAppStatus,
  rootRules: [],
  printerColumns: [
    { name: 'AppName', type: 'string', jsonPath: '.spec.appInfo.appName', description: 'MEC 016 appName' },
    {
      name: 'Version',
      type: 'string',
      jsonPath: '.spec.appInfo.appSoftVersion',
      description: 'Software version',
    },
    { name: 'Provider', type: 'string', jsonPath: '.spec.appInfo.appProvider', description: 'Provider' },
    READY_COLUMN,
    AGE_COLUMN,
  ],
} as const;

export type MecAppSpec = z.infer<typeof mecAppSpec>;
export type MecAppStatus = z.infer<typeof mecAppStatus>;
export type AppInfo = z.infer<typeof appInfo>;
