// The `mecqkd` front in-process: command lookup, flags and MECQKD_* environment, help on every
// command, usage errors (exit 1), and the exit code each kind of failure maps to.
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Qkd014Error } from '@mecqkd/kme-sim/client';
import { expect } from 'chai';
import { COMMANDS } from '../src/cli/commands/index.ts';
import { EXIT, failureOf } from '../src/cli/exit.ts';
import { findCommand, parseFlags, run } from '../src/cli/main.ts';
import { renderTable } from '../src/cli/output.ts';
import { GLOBAL_OPTIONS } from '../src/cli/settings.ts';
import { Mx2Error } from '../src/mx2-client.ts';
import { NotExecuted, OutcomeUnknown } from '../src/offload-session.ts';
import { ApplicationError, InvocationRefused, KeyUnavailable } from '../src/secure-invoke.ts';

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}, stdin = '') {
  const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
  let out = '';
  let err = '';
  io.stdout.on('data', (c) => {
    out += c;
  });
  io.stderr.on('data', (c) => {
    err += c;
  });
  io.stdin.end(stdin);
  const code = await run(argv, { ...io, env, signal: new AbortController().signal });
  return { code, out, err };
}

const refusedNet = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });

describe('mecqkd CLI front', () => {
  it('finds one- and two-word commands before the flags', () => {
    expect(findCommand(['contexts', 'create', '--app', 'x']).command?.name).to.equal('contexts create');
    expect(findCommand(['invoke', 'abc', '--args', '{}']).rest).to.deep.equal(['abc', '--args', '{}']);
    expect(findCommand(['contexts']).command).to.equal(undefined);
  });

  it('takes flags over MECQKD_* variables, and variables only for flags that allow them', () => {
    const env = { MECQKD_LCMP_URL: 'https://env', MECQKD_OUTPUT: 'json', MECQKD_HELP: 'true' };
    const { flags } = parseFlags(GLOBAL_OPTIONS, ['--lcmp-url', 'https://flag'], env);
    expect(flags).to.include({ 'lcmp-url': 'https://flag', output: 'json' });
    expect(flags.help).to.equal(undefined);
  });

  it('prints help for every command (exit 0) and names each in the general help', async () => {
    const general = await cli(['--help']);
    expect(general.code).to.equal(EXIT.ok);
    for (const c of COMMANDS) {
      expect(general.out).to.contain(c.name);
      const h = await cli([...c.name.split(' '), '--help']);
      expect(h.code, c.name).to.equal(EXIT.ok);
      expect(h.out).to.match(new RegExp(`^Usage: mecqkd ${c.name}`));
      expect(h.out).to.contain('Exit codes:');
    }
  });

  it('exits 1 on usage mistakes, with the reason', async () => {
    expect(await cli([])).to.include({ code: EXIT.usage });
    const unknown = await cli(['nope']);
    expect(unknown).to.include({ code: EXIT.usage });
    expect(unknown.err).to.contain('unknown command "nope"');
    const flag = await cli(['apps', '--nope']);
    expect(flag.code).to.equal(EXIT.usage);
    expect(flag.err).to.contain("Unknown option '--nope'");
    const url = await cli(['apps']);
    expect(url.err).to.contain('--lcmp-url is required');
    const output = await cli(['apps', '--output', 'yaml']);
    expect(output.err).to.contain('--output must be table or json');
    const json = await cli(['apps', '-o', 'json']);
    expect(JSON.parse(json.err).error).to.include({ code: 1, error: 'UsageError' });
  });

  it('maps each failure to its exit code', () => {
    const code = (e: unknown) => failureOf(e).code;
    expect(code(new Mx2Error('x', 403, { title: 'Forbidden', detail: 'no' }, undefined))).to.equal(
      EXIT.refused,
    );
    expect(code(refusedNet)).to.equal(EXIT.unreachable);
    expect(code(new NotExecuted('x', [], refusedNet))).to.equal(EXIT.unreachable);
    expect(code(new NotExecuted('x', [], new InvocationRefused('http-404', 'x', 404)))).to.equal(
      EXIT.refused,
    );
    expect(code(new InvocationRefused('unknown-key', 'x', 400))).to.equal(EXIT.refused);
    expect(code(new InvocationRefused('http-502', 'x', 502))).to.equal(EXIT.unknown);
    expect(code(new ApplicationError('bad input'))).to.equal(EXIT.appError);
    expect(code(new KeyUnavailable(new Qkd014Error('no', 401, undefined, undefined)))).to.equal(EXIT.refused);
    expect(code(new KeyUnavailable(refusedNet))).to.equal(EXIT.unreachable);
    expect(code(new OutcomeUnknown('x', []))).to.equal(EXIT.unknown);
    const mx2 = failureOf(new Mx2Error('x', 503, { title: 'Service Unavailable', detail: 'busy' }, 7));
    expect(mx2.detail).to.include({ status: 503, retryAfterSeconds: 7 });
  });

  it('renders aligned tables', () => {
    const t = renderTable(
      [
        { a: 'x', b: 1 },
        { a: 'longer', b: undefined },
      ],
      [
        { header: 'a', value: (r) => r.a },
        { header: 'b', value: (r) => r.b },
      ],
    );
    expect(t.split('\n')).to.deep.equal(['A       B', 'x       1', 'longer  -']);
  });
});

describe('mecqkd key-quota', () => {
  const manifests = ['cardio', 'covid'].map((a) =>
    fileURLToPath(new URL(`../../examples/manifests/mecapp-${a}.yaml`, import.meta.url)),
  );

  it("prints a client SAE's key quota from the MecApps it serves, as the demo provisions it", async () => {
    const r = await cli(['key-quota', '--contexts', '4', ...manifests, '--output', 'json']);
    expect(r.code, r.err).to.equal(0);
    // what examples/src/system.ts provisions for the demo's four tablets (examples/test/client-key-quota)
    expect(JSON.parse(r.out)).to.deep.equal({ maxBandwidth: 2560, burstBits: 32768 });
    const text = await cli(['key-quota', manifests[0]!]);
    expect(text.out).to.equal('maxBandwidth: 512\nburstBits: 4096\n');
  });

  it('exits 1 naming a file without MecApps, or no file at all', async () => {
    const none = await cli([
      'key-quota',
      fileURLToPath(new URL('../../examples/manifests/mechost.yaml', import.meta.url)),
    ]);
    expect(none.code).to.equal(1);
    expect(none.err).to.match(/no MecApp in .*mechost\.yaml/);
    expect((await cli(['key-quota'])).err).to.match(/at least one file/);
  });
});
