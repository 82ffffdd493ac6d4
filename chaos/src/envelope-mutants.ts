// Malformed secure-invocation envelopes from a valid one, seeded: truncated fields, flipped bits,
// wrong types, huge fields, missing and extra fields, whole-body garbage.
import { pick, type Rng } from './rng.ts';

export type Body = Record<string, unknown> | unknown[] | string | number | null;

const flipBit = (rng: Rng, s: string) => {
  const b = Buffer.from(s, 'base64');
  if (b.length === 0) return s;
  const i = Math.floor(rng() * b.length);
  b[i] = b[i]! ^ (1 << Math.floor(rng() * 8));
  return b.toString('base64');
};

export function mutateEnvelope(rng: Rng, valid: Record<string, unknown>): { what: string; body: Body } {
  const fields = Object.keys(valid);
  const field = pick(rng, fields);
  const v = valid[field];
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  const ops: (() => { what: string; body: Body })[] = [
    () => ({
      what: `${field} truncated`,
      body: { ...valid, [field]: text.slice(0, Math.floor(rng() * text.length)) },
    }),
    () => ({
      what: `${field} bit flipped`,
      body: { ...valid, [field]: typeof v === 'string' ? flipBit(rng, v) : Number(v) ^ 1 },
    }),
    () => ({
      what: `${field} wrong type`,
      body: { ...valid, [field]: pick(rng, [null, true, [], {}, 42, -1, '42']) },
    }),
    () => ({
      what: `${field} huge`,
      body: { ...valid, [field]: 'A'.repeat(1 << (10 + Math.floor(rng() * 10))) },
    }),
    () => {
      const { [field]: _, ...rest } = valid;
      return { what: `${field} missing`, body: rest };
    },
    () => ({ what: 'extra plaintext field', body: { ...valid, smuggled: 'plaintext' } }),
    () => ({ what: 'body not an object', body: pick(rng, [null, 'envelope', 7, [valid]]) }),
  ];
  return pick(rng, ops)();
}
