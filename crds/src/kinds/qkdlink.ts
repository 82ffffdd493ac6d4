// QkdLink: a QKD link between two KMEs; links form the graph over which keys reach a host.
import { z } from 'zod';
import { withRules } from '../cel.ts';
import {
  AGE_COLUMN,
  conditions,
  fraction,
  httpsUrl,
  observedGeneration,
  qkdId,
  READY_COLUMN,
  secretRef,
  timestamp,
  wholePercent,
} from '../common.ts';

/** ETSI GS QKD 015 link states (etsi-qkd-node-types.yang, link-status-types). */
export const LINK_STATES = ['ACTIVE', 'PASSIVE', 'PENDING', 'OFF'] as const;
export const linkState = z.enum(LINK_STATES);

const endpoint = z
  .object({
    kmeId: qkdId('KME ID of this end of the link.'),
    url: httpsUrl('Base URL of the KME at this end.'),
  })
  .describe('One end of a QKD link.');

export const qkdLinkSpec = withRules(
  z.object({
    source: endpoint,
    target: endpoint,
    fibreLengthKm: z
      .number()
      .min(0)
      .max(400)
      .optional()
      .describe('Fibre length in km; the expected secret key rate follows the model in docs/placement.md.'),
    secretKeyRate: z
      .number()
      .min(0)
      .max(1e10)
      .optional()
      .describe('Expected secret key rate in bits/s, when given directly instead of a fibre length.'),
    credentialsSecret: secretRef
      .optional()
      .describe(
        'Secret labelled mecqkd.io/credentials=kme (kubernetes.io/tls with ca.crt) used to probe the KMEs over mutual TLS.',
      ),
  }),
  [
    {
      rule: 'self.source.kmeId != self.target.kmeId',
      message: 'a link joins two different KMEs',
      field: '.target.kmeId',
      check: (l) => l.source.kmeId !== l.target.kmeId,
    },
    {
      rule: 'has(self.fibreLengthKm) != has(self.secretKeyRate)',
      message: 'exactly one of fibreLengthKm and secretKeyRate must be set',
      field: '.fibreLengthKm',
      reason: 'FieldValueRequired',
      check: (l) => (l.fibreLengthKm !== undefined) !== (l.secretKeyRate !== undefined),
    },
  ],
  { description: 'Desired state of a QKD link.' },
);

export const qkdLinkStatus = z
  .object({
    observedGeneration: observedGeneration.optional(),
    conditions: conditions.optional(),
    state: linkState
      .optional()
      .describe('Link state in ETSI GS QKD 015 terms: ACTIVE, PASSIVE, PENDING or OFF.'),
    secretKeyRate: z.number().min(0).optional().describe('Measured secret key rate in bits/s.'),
    keyRate: z
      .string()
      .max(32)
      .optional()
      .describe('The secret key rate with its unit, e.g. "54.4 kb/s" (the KeyRate column).'),
    storedKeys: z.int().min(0).optional().describe('Keys stored for this link and ready to deliver.'),
    capacityKeys: z.int().min(0).optional().describe('Most keys the link stores.'),
    expectedConsumption: z
      .number()
      .min(0)
      .optional()
      .describe('Key consumption expected from the contexts using this link, in bits/s.'),
    keyAvailability: fraction('Stored keys over capacity, in [0,1].').optional(),
    keyAvailabilityPercent: wholePercent(
      'The key availability as a whole percent (the Keys% column).',
    ).optional(),
    probeTime: timestamp('When the KMEs were last probed.').optional(),
  })
  .describe('Observed state of a QKD link.');

export const qkdLinkDescriptor = {
  kind: 'QkdLink',
  plural: 'qkdlinks',
  singular: 'qkdlink',
  shortNames: ['qkl'],
  description: 'A QKD link between two Key Management Entities, with its state in ETSI GS QKD 015 terms.',
  spec: qkdLinkSpec,
  status: qkdLinkStatus,
  rootRules: [],
  printerColumns: [
    { name: 'From', type: 'string', jsonPath: '.spec.source.kmeId', description: 'Source KME' },
    { name: 'To', type: 'string', jsonPath: '.spec.target.kmeId', description: 'Target KME' },
    { name: 'State', type: 'string', jsonPath: '.status.state', description: 'ETSI QKD 015 link state' },
    { name: 'KeyRate', type: 'string', jsonPath: '.status.keyRate', description: 'Secret key rate' },
    { name: 'Stored', type: 'integer', jsonPath: '.status.storedKeys', description: 'Keys ready to deliver' },
    {
      name: 'Keys%',
      type: 'integer',
      jsonPath: '.status.keyAvailabilityPercent',
      description: 'Stored keys over capacity, %',
    },
    READY_COLUMN,
    AGE_COLUMN,
  ],
} as const;

export type QkdLinkSpec = z.infer<typeof qkdLinkSpec>;
export type QkdLinkStatus = z.infer<typeof qkdLinkStatus>;
export type LinkState = z.infer<typeof linkState>;
