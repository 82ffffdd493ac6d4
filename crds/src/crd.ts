// Builds a CustomResourceDefinition object from a kind descriptor.
import { GROUP, VERSION } from './common.ts';
import { toStructuralSchema } from './openapi.ts';
import { CATEGORIES, type KindDescriptor } from './resources.ts';

export function crdName(kind: KindDescriptor): string {
  return `${kind.plural}.${GROUP}`;
}

export function buildCrd(kind: KindDescriptor) {
  const openAPIV3Schema = {
    type: 'object',
    description: kind.description,
    properties: {
      apiVersion: { type: 'string', description: 'Versioned schema of this representation of an object.' },
      kind: { type: 'string', description: 'REST resource this object represents.' },
      metadata: { type: 'object' },
      spec: toStructuralSchema(kind.spec, `${kind.kind}.spec`),
      status: toStructuralSchema(kind.status, `${kind.kind}.status`),
    },
    required: ['spec'],
    ...(kind.rootRules.length > 0 ? { 'x-kubernetes-validations': kind.rootRules } : {}),
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName(kind) },
    spec: {
      group: GROUP,
      names: {
        kind: kind.kind,
        listKind: `${kind.kind}List`,
        plural: kind.plural,
        singular: kind.singular,
        shortNames: [...kind.shortNames],
        categories: [...CATEGORIES],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: kind.printerColumns,
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}
