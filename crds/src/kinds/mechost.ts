// MecHost: one MEC edge host — its OpenWhisk deployment, its KME and host-side SAE, capacity, location.
import { z } from 'zod';
import {
  AGE_COLUMN,
  conditions,
  fraction,
  httpsUrl,
  httpUrl,
  locationConstraints,
  observedGeneration,
  qkdId,
  READY_COLUMN,
  secretRef,
  timestamp,
  wholePercent,
} from '../common.ts';

export const mecHostSpec = z
  .object({
    openwhisk: z
      .object({
        apiHost: httpUrl(
          'Base URL of the host OpenWhisk API, e.g. https://owdev-nginx.openwhisk:443; plain http only when the operator runs with --allow-insecure-hosts.',
        ),
        namespace: z
          .string()
          .min(1)
          .max(256)
          .default('_')
          .describe(
            'OpenWhisk namespace that actions are deployed to; "_" is the namespace of the credentials.',
          ),
        credentialsSecret: secretRef.describe(
          'Secret labelled mecqkd.io/credentials=openwhisk with key "auth" holding the OpenWhisk API key as UUID:KEY.',
        ),
        insecure: z
          .boolean()
          .default(false)
          .describe(
            'Skip TLS verification of the OpenWhisk API (self-signed development deployments only; refused unless the operator runs with --allow-insecure-hosts).',
          ),
      })
      .describe('The OpenWhisk deployment (FaaS platform) of this host.'),
    kme: z
      .object({
        url: httpsUrl('Base URL of the host KME, serving ETSI GS QKD 014 under /api/v1/keys.'),
        kmeId: qkdId('KME ID of the host KME.'),
        saeId: qkdId('SAE ID of the host-side SAE (the action wrapper) that decrypts client requests.'),
        credentialsSecret: secretRef.describe(
          'Secret labelled mecqkd.io/credentials=kme, of type kubernetes.io/tls, with the host SAE client certificate (tls.crt, tls.key) and the KME CA (ca.crt).',
        ),
      })
      .describe('The Key Management Entity of this host security perimeter.'),
    capacity: z
      .object({
        memoryMb: z
          .int()
          .min(128)
          .max(1_048_576)
          .default(2048)
          .describe('User memory of the host invokers in MB: what its actions may use at once.'),
        maxContexts: z
          .int()
          .min(1)
          .max(100_000)
          .optional()
          .describe('Most AppContexts placed on this host; unlimited when absent.'),
      })
      .prefault({})
      .describe('Capacity of the host.'),
    location: locationConstraints
      .optional()
      .describe('Where the host is (ETSI GS MEC 016 LocationConstraints).'),
    metricsUrl: httpUrl(
      'Prometheus exposition endpoint of the host OpenWhisk, for direct scraping when no Prometheus server is used.',
    ).optional(),
  })
  .describe('Desired state of a MEC host.');

export const mecHostStatus = z
  .object({
    observedGeneration: observedGeneration.optional(),
    conditions: conditions.optional(),
    load: fraction('Platform load of the host OpenWhisk in [0,1].').optional(),
    keyAvailability: fraction(
      'Key availability in [0,1] of the best QKD link into this host KME.',
    ).optional(),
    loadPercent: wholePercent('The load as a whole percent (the Load% column).').optional(),
    keyAvailabilityPercent: wholePercent(
      'The key availability as a whole percent (the Keys% column).',
    ).optional(),
    contextCount: z.int().min(0).optional().describe('AppContexts placed on this host.'),
    deployedActions: z.array(z.string().max(256)).max(1000).optional().meta({
      description: 'OpenWhisk actions mecqkd deployed on this host.',
      'x-kubernetes-list-type': 'set',
    }),
    telemetryTime: timestamp('When the load and key availability were measured.').optional(),
    openwhiskVersion: z.string().max(128).optional().describe('Build reported by the host OpenWhisk API.'),
    openwhiskNamespace: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe(
        'The OpenWhisk namespace the credentials resolve to (GET /api/v1/namespaces) when spec.openwhisk.namespace is "_": web action URLs must name it.',
      ),
  })
  .describe('Observed state of a MEC host.');

export const mecHostDescriptor = {
  kind: 'MecHost',
  plural: 'mechosts',
  singular: 'mechost',
  shortNames: ['mh'],
  description:
    'An ETSI MEC edge host: its OpenWhisk deployment, its KME and host SAE, capacity and location.',
  spec: mecHostSpec,
  status: mecHostStatus,
  rootRules: [],
  printerColumns: [
    {
      name: 'Endpoint',
      type: 'string',
      jsonPath: '.spec.openwhisk.apiHost',
      description: 'OpenWhisk API',
      priority: 1,
    },
    { name: 'Load%', type: 'integer', jsonPath: '.status.loadPercent', description: 'Platform load, %' },
    {
      name: 'Keys%',
      type: 'integer',
      jsonPath: '.status.keyAvailabilityPercent',
      description: 'Key availability of the best QKD link into the host KME, %',
    },
    {
      name: 'Contexts',
      type: 'integer',
      jsonPath: '.status.contextCount',
      description: 'AppContexts placed here',
    },
    {
      name: 'Actions',
      type: 'string',
      jsonPath: '.status.deployedActions',
      description: 'OpenWhisk actions mecqkd deployed here',
      priority: 1,
    },
    READY_COLUMN,
    AGE_COLUMN,
  ],
} as const;

export type MecHostSpec = z.infer<typeof mecHostSpec>;
export type MecHostStatus = z.infer<typeof mecHostStatus>;
