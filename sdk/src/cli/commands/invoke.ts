import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createKeySupply } from '../../key-supply.ts';
import { openOffloadSession } from '../../offload-session.ts';
import { createSecureInvoker } from '../../secure-invoke.ts';
import { resolveApp } from '../catalog.ts';
import type { Command, Flags } from '../command.ts';
import { int, need, str, UsageError } from '../command.ts';

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The arguments: --args, else --args-file (- for stdin), else stdin; a JSON object. */
export async function readArguments(flags: Flags, stdin: Readable): Promise<Record<string, unknown>> {
  const inline = str(flags, 'args');
  const file = str(flags, 'args-file');
  if (inline !== undefined && file !== undefined)
    throw new UsageError('give --args or --args-file, not both');
  let text: string;
  let from: string;
  if (inline !== undefined) [text, from] = [inline, '--args'];
  else if (file !== undefined && file !== '-') {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`--args-file ${file}: ${(err as Error).message}`);
    }
    from = file;
  } else if (file === '-' || !(stdin as { isTTY?: boolean }).isTTY)
    [text, from] = [await readAll(stdin), 'stdin'];
  else throw new UsageError('give the arguments with --args, --args-file or on stdin');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the arguments from ${from} are not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError(`the arguments from ${from} must be a JSON object`);
  return value as Record<string, unknown>;
}

const show = (result: unknown) => JSON.stringify(result, null, 2);

export const invoke: Command = {
  name: 'invoke',
  summary: 'invoke an app securely (QKD-keyed envelope) and print the decrypted result',
  args: '[<contextId>]',
  description: [
    'With a <contextId> from `contexts create`: invokes its instance as the --state file knows it.',
    'With --app instead: opens a context (receiving notifications on --listen), invokes, deletes it;',
    'a migration in between is followed transparently.',
    'Keys come from the client KME (--kme-url, --kme-ca, --kme-cert, --kme-key) for the host SAE.',
  ].join('\n'),
  options: [
    { name: 'args', type: 'string', description: 'the arguments as a JSON object' },
    {
      name: 'args-file',
      type: 'string',
      description: 'a file with them (- for stdin; stdin is the default)',
    },
    { name: 'app', type: 'string', description: 'open a context of this app for the invocation' },
    { name: 'provider', type: 'string', description: 'with --app: its appProvider' },
    { name: 'dev-app-id', type: 'string', env: true, description: 'with --app: associateDevAppId' },
    {
      name: 'listen',
      type: 'string',
      description: 'with --app: host for the notification receiver',
      default: '127.0.0.1',
    },
    {
      name: 'invocations-per-key',
      type: 'string',
      description: 'with --app: N of the key-use policy',
      default: '1',
    },
  ],
  async run({ flags, positionals, settings, out, stdin }) {
    const args = await readArguments(flags, stdin);
    const app = str(flags, 'app');
    if (positionals.length > 1) throw new UsageError('name one contextId');
    if (app && positionals.length === 1) throw new UsageError('give a contextId or --app, not both');
    if (app) {
      const mx2 = settings.mx2();
      const session = await openOffloadSession({
        mx2,
        app: await resolveApp(mx2, app, str(flags, 'provider')),
        associateDevAppId: need(flags, 'dev-app-id'),
        kme: settings.kme(),
        clientSaeId: settings.clientSaeId(),
        invocationsPerKey: int(flags, 'invocations-per-key', 1, 1),
        spares: 0,
        http: settings.http(),
      });
      try {
        const o = await session.invoke(args);
        out.result(
          {
            result: o.result,
            contextId: o.contextId,
            appInstanceId: o.instance.appInstanceId,
            hostSaeId: o.instance.hostSaeId,
            keyId: o.keyId,
            seq: o.seq,
            attempts: o.attempts,
            timings: o.timings,
          },
          show(o.result),
        );
      } finally {
        await session.close();
      }
      return undefined;
    }
    const id = positionals[0];
    if (!id) throw new UsageError('name a contextId (see `mecqkd contexts list`) or use --app');
    const ctx = settings.contexts().get(id);
    if (!ctx)
      throw new UsageError(`context ${id} is not in ${settings.contexts().path} (create it with this CLI)`);
    if (!ctx.hostSaeId) throw new UsageError(`context ${id} has no host SAE ID: the LCMP did not name one`);
    const keys = createKeySupply({
      kme: settings.kme(),
      hostSaeId: ctx.hostSaeId,
      invocationsPerKey: ctx.invocationsPerKey,
      spares: 0,
    });
    try {
      const inv = createSecureInvoker(
        {
          referenceURI: ctx.referenceURI,
          contextId: ctx.contextId,
          clientSaeId: settings.clientSaeId(),
          invocationsPerKey: ctx.invocationsPerKey,
        },
        keys,
        undefined,
        settings.http().fetch,
      );
      const o = await inv.invokeTimed(args);
      out.result(
        {
          result: o.result,
          contextId: ctx.contextId,
          appInstanceId: ctx.appInstanceId,
          hostSaeId: ctx.hostSaeId,
          keyId: o.keyId,
          seq: o.seq,
          timings: o.timings,
        },
        show(o.result),
      );
    } finally {
      keys.close();
    }
    return undefined;
  },
};
