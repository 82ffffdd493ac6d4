// The four kinds as whole Kubernetes objects, and the descriptors the CRD generator reads.
import { z } from 'zod';
import { API_VERSION, GROUP, VERSION } from './common.ts';
import { appContextDescriptor, appContextSpec, appContextStatus } from './kinds/appcontext.ts';
import { mecAppDescriptor, mecAppSpec, mecAppStatus } from './kinds/mecapp.ts';
import { mecHostDescriptor, mecHostSpec, mecHostStatus } from './kinds/mechost.ts';
import { qkdLinkDescriptor, qkdLinkSpec, qkdLinkStatus } from './kinds/qkdlink.ts';

/** The parts of metav1.ObjectMeta mecqkd reads; other fields pass through untouched. */
export const objectMeta = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  finalizers: z.array(z.string()).optional(),
});

function resource<K extends string, Sp extends z.ZodType, St extends z.ZodType, M extends z.ZodType>(
  kind: K,
  spec: Sp,
  status: St,
  metadata: M,
) {
  return z.object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(kind),
    metadata,
    spec,
    status: status.optional(),
  });
}

/** An AppContext's name is its contextId: the runtime twin of the CRD's root CEL rule. */
const contextMeta = objectMeta.extend({
  name: z.string().regex(/^[0-9a-f]{32}$/, appContextDescriptor.rootRules[0]!.message),
});

export const mecHost = resource('MecHost', mecHostSpec, mecHostStatus, objectMeta);
export const mecApp = resource('MecApp', mecAppSpec, mecAppStatus, objectMeta);
export const appContext = resource('AppContext', appContextSpec, appContextStatus, contextMeta);
export const qkdLink = resource('QkdLink', qkdLinkSpec, qkdLinkStatus, objectMeta);

export type ObjectMeta = z.infer<typeof objectMeta>;
export type MecHost = z.infer<typeof mecHost>;
export type MecApp = z.infer<typeof mecApp>;
export type AppContext = z.infer<typeof appContext>;
export type QkdLink = z.infer<typeof qkdLink>;

export interface PrinterColumn {
  readonly name: string;
  readonly type: 'integer' | 'number' | 'string' | 'boolean' | 'date';
  readonly jsonPath: string;
  readonly description?: string;
  readonly priority?: number;
}

export interface KindDescriptor {
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly description: string;
  readonly spec: z.ZodType;
  readonly status: z.ZodType;
  readonly rootRules: readonly { rule: string; message: string; fieldPath?: string }[];
  readonly printerColumns: readonly PrinterColumn[];
}

export const KINDS: readonly KindDescriptor[] = [
  mecHostDescriptor,
  mecAppDescriptor,
  appContextDescriptor,
  qkdLinkDescriptor,
];

/** Categories: `kubectl get mec` (and `kubectl get mecqkd`) lists all four kinds. */
export const CATEGORIES = ['mec', 'mecqkd'] as const;

/** REST path of a kind's collection, optionally in one namespace. */
export function collectionPath(plural: string, namespace?: string): string {
  return namespace
    ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`
    : `/apis/${GROUP}/${VERSION}/${plural}`;
}
