// Schema pieces shared by several kinds: Kubernetes conditions, Secret references, MEC 016 locations.
import { z } from 'zod';
import { withRules } from './cel.ts';

export const GROUP = 'mecqkd.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const dnsLabel = (description: string) =>
  z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    .describe(description);

export const dnsSubdomain = (description: string) =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/)
    .describe(description);

export const httpUrl = (description: string) =>
  z
    .string()
    .max(2048)
    .regex(/^https?:\/\/[^\s/?#]+([/?#]\S*)?$/)
    .describe(description);

export const httpsUrl = (description: string) =>
  z
    .string()
    .max(2048)
    .regex(/^https:\/\/[^\s/?#]+([/?#]\S*)?$/)
    .describe(description);

/** A QKD 014 KME or SAE identifier: printable, no slash (it is a URL path segment). */
export const qkdId = (description: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._:-]+$/)
    .describe(description);

export const fraction = (description: string) => z.number().min(0).max(1).describe(description);

/** A share as a whole percent, for `kubectl get` columns a person reads at a glance. */
export const wholePercent = (description: string) => z.int().min(0).max(100).describe(description);

export const timestamp = (description: string) => z.iso.datetime({ offset: true }).describe(description);

export const secretRef = z
  .object({
    name: dnsSubdomain('Name of a Secret in the same namespace.'),
  })
  .describe('Reference to a Secret in the same namespace.');

/** metav1.Condition, field for field (k8s.io/apimachinery/pkg/apis/meta/v1/types.go). */
export const condition = z
  .object({
    type: z
      .string()
      .max(316)
      .regex(
        /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/,
      )
      .describe('Type of condition in CamelCase, e.g. Ready or Placed.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition: True, False or Unknown.'),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('The .metadata.generation the condition was set from; older means the condition is stale.'),
    lastTransitionTime: timestamp('Last time the condition changed from one status to another.'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .describe('Programmatic identifier of the last transition, in CamelCase.'),
    message: z.string().max(32768).describe('Human-readable details of the last transition.'),
  })
  .describe('A condition in the shape of metav1.Condition.');

export const conditions = z
  .array(condition)
  .max(16)
  .meta({
    description: 'Latest observations of the object state, one per type.',
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });

/** Printer columns every kind shows last (kubebuilder convention). */
export const READY_COLUMN = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Ready condition',
} as const;
export const AGE_COLUMN = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' } as const;

export const observedGeneration = z
  .int()
  .min(0)
  .describe('The .metadata.generation this status was computed from.');

const civicAddressElement = z
  .object({
    caType: z.int().min(0).max(255).describe('Civic address type (RFC 4776 section 3.4).'),
    caValue: z.string().min(1).max(256).describe('Civic address value.'),
  })
  .describe('One civic address element (ETSI GS MEC 016 CivicAddressElement).');

const polygon = z
  .object({
    type: z.enum(['Polygon']).describe('GeoJSON geometry type; always Polygon (RFC 7946).'),
    coordinates: z
      .array(
        z
          .array(z.array(z.number()).min(2).max(3).describe('A position: longitude, latitude[, altitude].'))
          .min(4)
          .max(256)
          .describe('A closed linear ring.'),
      )
      .min(1)
      .max(8)
      .describe('Linear rings: the exterior ring first, then holes.'),
  })
  .describe('A GeoJSON Polygon (RFC 7946 section 3.1.6).');

export const locationConstraints = withRules(
  z.object({
    countryCode: z
      .string()
      .max(2)
      .regex(/^[A-Z]{2}$/)
      .optional()
      .describe('ISO 3166-1 alpha-2 country code in capitals. Required when area is absent.'),
    civicAddressElement: z
      .array(civicAddressElement)
      .max(32)
      .optional()
      .describe('Civic address elements of the location; absent when area is present.'),
    area: polygon.optional().describe('Geographic area; absent when civicAddressElement is present.'),
  }),
  [
    {
      rule: 'has(self.countryCode) || has(self.area)',
      message: 'countryCode is required when area is absent',
      field: '.countryCode',
      reason: 'FieldValueRequired',
      check: (l) => l.countryCode !== undefined || l.area !== undefined,
    },
    {
      rule: '!(has(self.area) && has(self.civicAddressElement))',
      message: 'civicAddressElement must be absent when area is present',
      field: '.civicAddressElement',
      reason: 'FieldValueForbidden',
      check: (l) => !(l.area !== undefined && l.civicAddressElement !== undefined),
    },
  ],
  { description: 'A location constraint (ETSI GS MEC 016 LocationConstraints).' },
);

export type Condition = z.infer<typeof condition>;
export type LocationConstraints = z.infer<typeof locationConstraints>;
