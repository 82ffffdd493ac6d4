// A cross-field rule is written once: the CEL text goes into the CRD (enforced by the apiserver) and
// the same rule as a TS predicate refines the zod schema (enforced by the operator and the LCMP).
import type { z } from 'zod';

export interface CelRule<T> {
  rule: string;
  message: string;
  /** Where the error is reported, relative to the object that carries the rule (CEL `fieldPath`). */
  field?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  /** Transition rules (using oldSelf) have no runtime twin: they need the previous object. */
  check?: (value: T) => boolean;
}

/** Attaches CEL rules (for the CRD) and their runtime twins (for zod parsing) to an object schema. */
export function withRules<S extends z.ZodType>(
  schema: S,
  rules: CelRule<z.output<S>>[],
  meta: { description: string; 'x-kubernetes-map-type'?: 'atomic' },
) {
  const refined = schema.superRefine((value, ctx) => {
    for (const r of rules) {
      if (r.check && !r.check(value)) {
        ctx.addIssue({
          code: 'custom',
          message: r.message,
          path: r.field ? r.field.replace(/^\./, '').split('.') : [],
        });
      }
    }
  });
  return refined.meta({
    ...meta,
    'x-kubernetes-validations': rules.map(({ rule, message, field, reason }) => ({
      rule,
      message,
      ...(field ? { fieldPath: field } : {}),
      ...(reason ? { reason } : {}),
    })),
  });
}
