// zod → structural OpenAPI v3 schema for a CRD. zod's openapi-3.0 output needs one fix-up pass, and
// anything that would still break the apiserver's structural-schema rules fails here, at generation.
import { z } from 'zod';

export type JsonSchema = { [key: string]: unknown };

/** Keys of apiextensions JSONSchemaProps that we emit; anything else from zod is dropped. */
const ALLOWED = new Set([
  'type',
  'format',
  'description',
  'properties',
  'required',
  'items',
  'additionalProperties',
  'enum',
  'default',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'pattern',
  'nullable',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
]);
const FORBIDDEN = ['$ref', '$defs', 'definitions', 'patternProperties', 'allOf', 'anyOf', 'oneOf', 'not'];
/** Formats the apiserver validates; zod's others (e.g. "safeint") carry no meaning there. */
const KNOWN_FORMATS = new Set([
  'date-time',
  'date',
  'int32',
  'int64',
  'float',
  'double',
  'byte',
  'uri',
  'uuid',
]);
const SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

function fix(node: JsonSchema, path: string): JsonSchema {
  for (const key of FORBIDDEN) {
    if (key in node) throw new Error(`${path}: "${key}" is not allowed in a structural schema`);
  }
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) if (ALLOWED.has(key)) out[key] = value;

  if (typeof out.format === 'string') {
    if (KNOWN_FORMATS.has(out.format))
      delete out.pattern; // zod's patterns for formats use look-aheads (not RE2)
    else delete out.format;
  }
  if (out.type === 'integer') {
    if (out.minimum === -SAFE_INTEGER) delete out.minimum;
    if (out.maximum === SAFE_INTEGER) delete out.maximum;
  }
  if (out.properties) {
    const props: JsonSchema = {};
    for (const [name, child] of Object.entries(out.properties as Record<string, JsonSchema>)) {
      props[name] = fix(child, `${path}.${name}`);
    }
    out.properties = props;
    delete out.additionalProperties; // pruning drops unknown fields; the two keys are exclusive anyway
  }
  if (out['x-kubernetes-preserve-unknown-fields'] === true) {
    delete out.additionalProperties;
  } else if (out.additionalProperties && typeof out.additionalProperties === 'object') {
    out.additionalProperties = fix(out.additionalProperties as JsonSchema, `${path}[*]`);
  }
  if (out.items) {
    if (Array.isArray(out.items))
      throw new Error(`${path}: tuple items are not allowed in a structural schema`);
    out.items = fix(out.items as JsonSchema, `${path}[]`);
  }
  if (
    !out.type &&
    out['x-kubernetes-preserve-unknown-fields'] !== true &&
    out['x-kubernetes-int-or-string'] !== true
  ) {
    throw new Error(`${path}: every node of a structural schema needs a type`);
  }
  if (
    out.type === 'string' &&
    out.maxLength === undefined &&
    out.enum === undefined &&
    out.format === undefined
  ) {
    throw new Error(`${path}: strings need maxLength (bounds CEL cost and object size)`);
  }
  if (out.type === 'array' && out.maxItems === undefined) {
    throw new Error(`${path}: arrays need maxItems (bounds CEL cost and object size)`);
  }
  return out;
}

export function toStructuralSchema(schema: z.ZodType, path: string): JsonSchema {
  const raw = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    reused: 'inline',
    cycles: 'throw',
    unrepresentable: 'throw',
  }) as JsonSchema;
  return fix(raw, path);
}
