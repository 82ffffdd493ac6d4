// Invalid custom resources, derived from the CRDs' structural schemas (which the zod source in
// crds/ generates): for every bounded field one object per bound it can break (range, length,
// pattern, enum, item count, type, required), and seeded structural garbage anywhere in an object.
// Pure functions: the fuzz test sends them to a real apiserver.
import { pick, type Rng } from './rng.ts';

export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  required?: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: unknown[];
  minItems?: number;
  maxItems?: number;
  'x-kubernetes-validations'?: { rule: string; message: string }[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
}

export type Path = (string | number)[];

export interface Mutant {
  title: string;
  path: Path;
  value?: unknown;
  /** The field is removed rather than set. */
  remove?: boolean;
}

/** `spec.items[0].name`, as the apiserver names a field in its causes. */
export function fieldName(path: Path): string {
  return path.reduce<string>(
    (s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : String(p)),
    '',
  );
}

export function getAt(obj: unknown, path: Path): unknown {
  let cur = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

/** A copy of `obj` with the mutant applied (parents created where missing). */
export function applyMutant<T>(obj: T, m: Mutant): T {
  const out = structuredClone(obj) as Record<string | number, unknown>;
  let cur = out;
  m.path.slice(0, -1).forEach((p, i) => {
    if (cur[p] === null || typeof cur[p] !== 'object') cur[p] = typeof m.path[i + 1] === 'number' ? [] : {};
    cur = cur[p] as Record<string | number, unknown>;
  });
  const last = m.path[m.path.length - 1]!;
  if (m.remove) {
    if (Array.isArray(cur) && typeof last === 'number') cur.splice(last, 1);
    else delete cur[last];
  } else cur[last] = m.value;
  return out as T;
}

const PATTERN_BREAKERS = ['', ' ', '!!', 'A B', 'UPPER', '-x-', '\u00e9\u00e9', '../..', 'a'.repeat(300)];

/** A string `pattern` does not match (undefined when none of the candidates fails it). */
function breakPattern(pattern: string): string | undefined {
  const re = new RegExp(pattern, 'u');
  return PATTERN_BREAKERS.find((s) => !re.test(s));
}

function wrongType(type: string | undefined): unknown {
  switch (type) {
    case 'string':
      return 12345;
    case 'integer':
    case 'number':
      return 'not-a-number';
    case 'boolean':
      return 'yes';
    case 'array':
      return { not: 'an array' };
    case 'object':
      return 'not an object';
    default:
      return undefined;
  }
}

/** One mutant per bound of the field at `path` (schema `s`, value in the base object `value`). */
function boundMutants(path: Path, s: JsonSchema, value: unknown): Mutant[] {
  const f = fieldName(path);
  const out: Mutant[] = [];
  const add = (what: string, v: unknown) => out.push({ title: `${f}: ${what}`, path, value: v });
  const step = s.type === 'integer' ? 1 : 0.5;
  if (s.minimum !== undefined)
    add(`below minimum ${s.minimum}`, s.exclusiveMinimum ? s.minimum : s.minimum - step);
  if (s.maximum !== undefined)
    add(`above maximum ${s.maximum}`, s.exclusiveMaximum ? s.maximum : s.maximum + step);
  if (s.minLength !== undefined && s.minLength > 0)
    add(`shorter than ${s.minLength}`, 'a'.repeat(s.minLength - 1));
  if (s.maxLength !== undefined) add(`longer than ${s.maxLength}`, 'a'.repeat(s.maxLength + 1));
  if (s.pattern !== undefined) {
    const broken = breakPattern(s.pattern);
    if (broken !== undefined) add(`not matching ${s.pattern}`, broken);
  }
  if (s.enum) add('outside the enum', '__not_in_enum__');
  if (Array.isArray(value) && s.minItems !== undefined && s.minItems > 0)
    add(`fewer than ${s.minItems} items`, value.slice(0, s.minItems - 1));
  if (s.maxItems !== undefined && Array.isArray(value) && value.length > 0)
    add(
      `more than ${s.maxItems} items`,
      Array.from({ length: s.maxItems + 1 }, (_, i) => value[i % value.length]),
    );
  const wrong = s['x-kubernetes-int-or-string'] ? undefined : wrongType(s.type);
  if (wrong !== undefined && value !== undefined) add(`a ${typeof wrong} instead of ${s.type}`, wrong);
  return out;
}

/**
 * Every bound of every field of `schema` that `base` reaches (its own fields, and absent optional
 * leaves under objects it has), as mutants of `base`; plus the removal of each required field it has.
 */
export function schemaMutants(schema: JsonSchema, base: unknown, path: Path = []): Mutant[] {
  const out: Mutant[] = [];
  const isLeaf = !schema.properties && !schema.items;
  if (path.length > 0 && (base !== undefined || isLeaf)) out.push(...boundMutants(path, schema, base));
  if (schema.properties && base !== null && typeof base === 'object' && !Array.isArray(base)) {
    const obj = base as Record<string, unknown>;
    for (const r of schema.required ?? [])
      if (r in obj)
        out.push({
          title: `${fieldName([...path, r])}: required, removed`,
          path: [...path, r],
          remove: true,
        });
    for (const [k, sub] of Object.entries(schema.properties))
      out.push(...schemaMutants(sub, obj[k], [...path, k]));
  }
  if (schema.items && Array.isArray(base) && base.length > 0)
    out.push(...schemaMutants(schema.items, base[0], [...path, 0]));
  return out;
}

/** Every CEL rule of a schema, with the path of the object that carries it. */
export function celRules(
  schema: JsonSchema,
  path: Path = [],
): { path: Path; rule: string; message: string }[] {
  const own = (schema['x-kubernetes-validations'] ?? []).map((v) => ({
    path,
    rule: v.rule,
    message: v.message,
  }));
  const props = Object.entries(schema.properties ?? {}).flatMap(([k, s]) => celRules(s, [...path, k]));
  const items = schema.items ? celRules(schema.items, [...path, 0]) : [];
  return [...own, ...props, ...items];
}

/** Paths of every value in `obj` (objects, arrays and leaves), metadata.name excluded. */
function allPaths(obj: unknown, path: Path = []): Path[] {
  if (obj === null || typeof obj !== 'object') return [path];
  const children = Array.isArray(obj)
    ? obj.flatMap((v, i) => allPaths(v, [...path, i]))
    : Object.entries(obj).flatMap(([k, v]) =>
        path.length === 1 && path[0] === 'metadata' && k === 'name' ? [] : allPaths(v, [...path, k]),
      );
  return path.length > 0 ? [path, ...children] : children;
}

const GARBAGE: ((rng: Rng) => unknown)[] = [
  () => null,
  () => -1,
  () => 1e308,
  () => Number.MAX_SAFE_INTEGER + 2,
  () => true,
  () => '',
  (rng) => 'x'.repeat(1 + Math.floor(rng() * 65_536)),
  () => '\u0000\u202e\ud83d\ude00<script>',
  () => [],
  () => [[[[[]]]]],
  () => ({}),
  (rng) => {
    let o: unknown = 'leaf';
    for (let i = 0; i < 20 + Math.floor(rng() * 40); i++) o = { nested: o };
    return o;
  },
  () => ({ $ref: '#/x', __proto__: { polluted: true } }),
];

/** `n` seeded structural-garbage mutants of `base`: a random value replaced, removed or added to. */
export function garbageMutants(base: unknown, rng: Rng, n: number): Mutant[] {
  const paths = allPaths(base).filter((p) => p[0] === 'spec' || p[0] === 'metadata');
  return Array.from({ length: n }, (_, i) => {
    const path = pick(rng, paths);
    const roll = rng();
    if (roll < 0.2) return { title: `#${i} remove ${fieldName(path)}`, path, remove: true };
    if (roll < 0.35) {
      const added = [...path, `unknown${i}`];
      return { title: `#${i} add ${fieldName(added)}`, path: added, value: pick(rng, GARBAGE)(rng) };
    }
    const value = pick(rng, GARBAGE)(rng);
    return { title: `#${i} ${fieldName(path)} = ${JSON.stringify(value)?.slice(0, 40)}`, path, value };
  });
}
