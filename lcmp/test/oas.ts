// Validation against the official MEC 016 OpenAPI schemas (JSON Schema 2020-12 in OAS 3.1), with
// the required-on-array defects (D3) left as they are: what a standard client's validator sees.
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { OPENAPI_FILE } from '../src/openapi.ts';

const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'));
const ajv = new Ajv2020.default({ strict: false, allErrors: true, discriminator: true });
addFormats.default(ajv);
// the OAS's own formats (D9): uint32 as an integer range, float as any number
ajv.addFormat('uint32', {
  type: 'number',
  validate: (n: number) => Number.isInteger(n) && n >= 0 && n <= 4_294_967_295,
});
ajv.addFormat('float', { type: 'number', validate: () => true });
ajv.addSchema({ $id: 'mec016', components: doc.components });

/** The schema violations of `value` as `#/components/schemas/<name>`; empty when valid. */
export function violations(name: string, value: unknown): string[] {
  const validate = ajv.getSchema(`mec016#/components/schemas/${name}`);
  if (!validate) throw new Error(`no schema ${name}`);
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
