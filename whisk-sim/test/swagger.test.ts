// Responses validate against the definitions of OpenWhisk's apiv1swagger.json (an exact copy in
// test/spec/), except where the controller itself differs from the swagger: those cases are listed in
// DEVIATIONS (and in README.md) and validated against the definition the controller really returns.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { expect } from 'chai';
import { startServer, type WhiskSim } from '../src/server.ts';

const swagger = JSON.parse(readFileSync(new URL('./spec/apiv1swagger.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, { $ref?: string; schema?: object }> }>>;
  responses: Record<string, { schema?: object }>;
};

/** `<method> <swagger path> <status>` → definition the controller returns where the swagger has none or differs. */
const DEVIATIONS: Record<string, { definition: string; why: string }> = {
  'post /namespaces/{namespace}/actions/{actionName} 200': {
    definition: 'Activation',
    why: 'swagger gives no schema; the controller returns the activation record',
  },
  'post /namespaces/{namespace}/actions/{actionName} 502': {
    definition: 'Activation',
    why: 'swagger gives no schema; the controller returns the failed activation record',
  },
  'post /namespaces/{namespace}/actions/{actionName} 413': {
    definition: 'ErrorMessage',
    why: 'swagger omits 413 on invoke; the controller answers it with the error envelope',
  },
  'post /namespaces/{namespace}/actions/{actionName} 429': {
    definition: 'ErrorMessage',
    why: 'swagger gives no schema for 429; the controller answers with the error envelope',
  },
  'delete /namespaces/{namespace}/actions/{actionName} 200': {
    definition: 'Action',
    why: 'swagger gives no schema; the controller returns the deleted action',
  },
};

const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema(swagger, 'swagger');

/** Swagger schemas say `#/definitions/X`; compiled on their own they must point into the registered document. */
function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' ? `swagger${v}` : rebase(v),
    ]),
  );
}

function schemaFor(method: string, path: string, status: number): object {
  const deviation = DEVIATIONS[`${method} ${path} ${status}`];
  if (deviation) return { $ref: `swagger#/definitions/${deviation.definition}` };
  const response = swagger.paths[path]?.[method]?.responses[String(status)];
  if (!response)
    throw new Error(`swagger has no ${status} response for ${method} ${path} and no deviation is listed`);
  const resolved = response.$ref ? swagger.responses[response.$ref.replace('#/responses/', '')] : response;
  if (!resolved?.schema) throw new Error(`swagger gives no schema for ${method} ${path} ${status}`);
  return rebase(resolved.schema) as object;
}

describe('whisk-sim responses validate against apiv1swagger.json', () => {
  let sim: WhiskSim;
  let auth: string;
  const ns = '/api/v1/namespaces/_';
  const checked: string[] = [];

  async function exchange(
    method: string,
    swaggerPath: string,
    url: string,
    expected: number,
    body?: unknown,
  ) {
    const res = await fetch(`${sim.url}${url}`, {
      method: method.toUpperCase(),
      headers: { authorization: auth, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as unknown;
    expect(res.status, `${method} ${url}: ${JSON.stringify(json)}`).to.equal(expected);
    const validate = ajv.compile(schemaFor(method, swaggerPath, res.status));
    expect(validate(json), `${method} ${url} ${res.status}: ${ajv.errorsText(validate.errors)}`).to.equal(
      true,
    );
    checked.push(`${method} ${swaggerPath} ${res.status}`);
    return json as Record<string, unknown>;
  }

  before(async () => {
    sim = await startServer({
      port: 0,
      logLevel: 'silent',
      throttles: { invocationsPerMinute: 3, concurrentInvocations: 30, firesPerMinute: 60 },
    });
    const ns0 = sim.services.config.namespaces[0];
    auth = `Basic ${Buffer.from(`${ns0?.uuid}:${ns0?.key}`).toString('base64')}`;
  });
  after(() => sim?.close());

  it('actions, invocations, activations, limits and errors match their definitions', async () => {
    const action = '/namespaces/{namespace}/actions/{actionName}';
    const put = {
      exec: {
        kind: 'nodejs:default',
        code: 'function main(p) { console.log(1); return p.fail ? { error: "x" } : p; }',
      },
    };
    await exchange('put', action, `${ns}/actions/v`, 200, put);
    await exchange('put', action, `${ns}/actions/v`, 409, put);
    await exchange('get', action, `${ns}/actions/v`, 200);
    await exchange('get', action, `${ns}/actions/none`, 404);
    await exchange('get', '/namespaces/{namespace}/actions', `${ns}/actions`, 200);
    const ok = await exchange('post', action, `${ns}/actions/v?blocking=true`, 200, { a: 1 });
    await exchange('post', action, `${ns}/actions/v?blocking=true`, 502, { fail: true });
    await exchange('post', action, `${ns}/actions/v`, 202, {});
    await exchange('post', action, `${ns}/actions/v`, 429, {});
    await exchange('post', action, `${ns}/actions/v`, 413, { big: 'x'.repeat(1_100_000) });
    const id = ok.activationId as string;
    await new Promise((r) => setTimeout(r, 200));
    const activation = '/namespaces/{namespace}/activations/{activationid}';
    await exchange('get', '/namespaces/{namespace}/activations', `${ns}/activations`, 200);
    await exchange('get', activation, `${ns}/activations/${id}`, 200);
    await exchange('get', `${activation}/result`, `${ns}/activations/${id}/result`, 200);
    await exchange('get', `${activation}/logs`, `${ns}/activations/${id}/logs`, 200);
    await exchange('get', '/namespaces/{namespace}/limits', `${ns}/limits`, 200);
    await exchange('get', '/namespaces', '/api/v1/namespaces', 200);
    await exchange('delete', action, `${ns}/actions/v`, 200);
    auth = 'Basic d3Jvbmc6d3Jvbmc=';
    await exchange('get', action, `${ns}/actions/v`, 401);
    expect(checked).to.have.length(18);
  });

  it('catches a response that breaks its definition (the check itself can fail)', () => {
    const validate = ajv.compile(schemaFor('get', '/namespaces/{namespace}/actions/{actionName}', 200));
    expect(
      validate({ name: 'no-namespace', version: '0.0.1', publish: false, exec: {}, limits: {} }),
    ).to.equal(false);
  });
});
