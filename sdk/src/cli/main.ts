// `mecqkd`: the device-app side of mecqkd on the command line. `mecqkd <command> [flags]`; the
// commands are the list in commands/index.ts, each in a file of its own.

import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { envName } from '@mecqkd/common/cli-config';
import { type Command, type Flags, type OptionSpec, UsageError } from './command.ts';
import { COMMANDS } from './commands/index.ts';
import { EXIT, failureOf } from './exit.ts';
import { createOutput, type Format } from './output.ts';
import { createSettings, GLOBAL_OPTIONS } from './settings.ts';

export interface Io {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
}

const EXIT_HELP = `Exit codes:
  0  ok
  1  usage or bad input (or an unexpected error)
  2  refused by the LCMP, token endpoint, KME or host: nothing ran
  3  unreachable: nothing was sent
  4  the app ran and answered an error
  5  outcome unknown: the invocation may have run (do not blindly repeat it)`;

const optionLine = (o: OptionSpec) => {
  const flag = `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.type === 'string' ? ' <value>' : ''}`;
  const extra = [
    o.default ? `default ${o.default}` : '',
    o.env ? `env ${envName(o.name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()))}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `  ${flag.padEnd(30)} ${o.description}${extra ? ` (${extra})` : ''}`;
};

export function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: mecqkd <command> [flags]',
    '',
    'Device-app side of mecqkd: MEC 016 Mx2 (apps, contexts, notifications) and QKD-secured invocation.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Global flags:',
    ...GLOBAL_OPTIONS.map(optionLine),
    '',
    EXIT_HELP,
    '',
    'Run `mecqkd <command> --help` for the flags of a command.',
  ].join('\n');
}

export function commandHelp(c: Command): string {
  return [
    `Usage: mecqkd ${c.name}${c.args ? ` ${c.args}` : ''} [flags]`,
    '',
    c.summary,
    ...(c.description ? ['', c.description] : []),
    ...(c.options?.length ? ['', 'Flags:', ...c.options.map(optionLine)] : []),
    '',
    'Global flags:',
    ...GLOBAL_OPTIONS.map(optionLine),
    '',
    EXIT_HELP,
  ].join('\n');
}

/** The command the leading words name (the longest match) and the words after it. */
export function findCommand(argv: string[]): { command?: Command; rest: string[] } {
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  for (let n = Math.min(words.length, 3); n > 0; n--) {
    const name = words.slice(0, n).join(' ');
    const command = COMMANDS.find((c) => c.name === name);
    if (command) return { command, rest: argv.slice(n) };
  }
  return { rest: argv };
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function parseFlags(options: OptionSpec[], argv: string[], env: NodeJS.ProcessEnv) {
  const config = Object.fromEntries(
    options.map((o) => [
      o.name,
      { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
    ]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const flags: Flags = { ...(parsed.values as Flags) };
  for (const o of options) {
    const fromEnv = env[envName(camel(o.name))];
    if (flags[o.name] === undefined && o.env && fromEnv !== undefined && fromEnv !== '')
      flags[o.name] = o.multiple ? fromEnv.split(',') : fromEnv;
  }
  return { flags, positionals: parsed.positionals };
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { command, rest } = findCommand(argv);
  const wantsJson = (() => {
    const i = argv.findIndex((a) => a === '--output' || a === '-o');
    const v =
      argv.find((a) => a.startsWith('--output='))?.slice(9) ?? (i >= 0 ? argv[i + 1] : io.env.MECQKD_OUTPUT);
    return v === 'json';
  })();
  const fail = (err: unknown) => {
    const f = failureOf(err);
    if (wantsJson) io.stderr.write(`${JSON.stringify({ error: { code: f.code, ...f.detail } })}\n`);
    else
      io.stderr.write(
        `mecqkd: ${f.message}${f.code === EXIT.usage && err instanceof UsageError ? ' (see --help)' : ''}\n`,
      );
    return f.code;
  };
  if (!command) {
    if (rest.length === 0 || rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(`${generalHelp()}\n`);
      return rest.length === 0 ? EXIT.usage : EXIT.ok;
    }
    return fail(
      new UsageError(`unknown command ${JSON.stringify(rest.filter((a) => !a.startsWith('-')).join(' '))}`),
    );
  }
  let settings: ReturnType<typeof createSettings> | undefined;
  try {
    const { flags, positionals } = parseFlags([...GLOBAL_OPTIONS, ...(command.options ?? [])], rest, io.env);
    if (flags.help) {
      io.stdout.write(`${commandHelp(command)}\n`);
      return EXIT.ok;
    }
    const format = (flags.output ?? 'table') as Format;
    if (format !== 'table' && format !== 'json') throw new UsageError('--output must be table or json');
    settings = createSettings(flags, io.env);
    const code = await command.run({
      flags,
      positionals,
      out: createOutput(format, io.stdout, io.stderr),
      settings,
      stdin: io.stdin,
      stderr: io.stderr,
      signal: io.signal,
    });
    return code ?? EXIT.ok;
  } catch (err) {
    return fail(err);
  } finally {
    await settings?.close();
  }
}

/** The process entry (bin/mecqkd.mjs): SIGINT/SIGTERM end long-running commands cleanly. */
export async function main(): Promise<void> {
  const abort = new AbortController();
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => abort.abort());
  process.exitCode = await run(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: abort.signal,
  });
}
