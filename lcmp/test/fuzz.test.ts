// Schema fuzzing against the official MEC 016 OpenAPI (the V2.2.1 tag in its OAS 3.0 form, same
// content as the 3.1 file): schemathesis (installed by `make fuzz-deps` into a virtualenv under
// ~/.cache/mecqkd) sends generated valid and invalid requests with a real token; the LCMP must never
// answer 5xx, and every response must match the status codes, media types and schemas the OAS declares.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { junitCounts, SCHEMATHESIS } from '@mecqkd/common/schemathesis';
import { expect } from 'chai';
import { mecApp, startWorld, type World } from './support.ts';

const SPEC = join(import.meta.dirname, '..', 'openapi', 'oas3.0', 'UEAppInterfaceApi.json');
const EXAMPLES = Number(process.env.FUZZ_EXAMPLES ?? 25);
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
];

describe('schema fuzzing of Mx2 (schemathesis)', function () {
  this.timeout(600_000);
  let w: World;

  before(async () => {
    if (!existsSync(SCHEMATHESIS))
      throw new Error(`schemathesis is missing at ${SCHEMATHESIS}: run \`make fuzz-deps\``);
    w = await startWorld('lcmp-fuzz', [mecApp('cardio'), mecApp('covid')]);
  });
  after(async () => {
    await w?.stop();
  });

  it('finds no server error and no response outside the official OpenAPI', async () => {
    const report = join(w.tb.dir, 'schemathesis.xml');
    const args = [
      'run',
      SPEC,
      '--base-url',
      `${w.lcmp.url}/dev_app/v1`,
      '-H',
      `Authorization: Bearer ${w.tokens.ward}`,
      '--checks',
      CHECKS.join(','),
      '--data-generation-method',
      'all',
      '--hypothesis-max-examples',
      String(EXAMPLES),
      '--hypothesis-seed',
      '20261201',
      '--hypothesis-deadline',
      'None',
      '--request-timeout',
      '30000',
      '--junit-xml',
      report,
      // the PUT body's nested LocationConstraints make hypothesis filter and shrink much: still fine
      '--hypothesis-suppress-health-check',
      'all',
      '--no-color',
    ];
    const run = await promisify(execFile)(SCHEMATHESIS, args, {
      timeout: 480_000,
      maxBuffer: 16 << 20,
    }).catch((err: { stdout?: string; stderr?: string; code?: number }) => ({ ...err, failed: true }));
    const counts = junitCounts(readFileSync(report, 'utf8'));
    console.log(`      schemathesis: ${counts.cases} operations, ${counts.failures.length} failures`);
    const summary = (run.stdout ?? '')
      .split('\n')
      .filter((l) => /passed|failed|errored|Performed checks|N\/A|\d+ \//.test(l));
    if (process.env.FUZZ_VERBOSE) console.log(run.stdout);
    for (const l of summary.slice(-12)) console.log(`      ${l.trim()}`);
    expect(counts.cases).to.be.greaterThan(0);
    expect(counts.failures, JSON.stringify(counts.failures, null, 1).slice(0, 4000)).to.deep.equal([]);
    expect(run.stdout ?? '', 'schemathesis summary').to.match(/=+ \d+ passed in [\d.]+s =+/);
  });
});
