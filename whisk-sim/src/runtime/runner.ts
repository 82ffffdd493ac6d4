// The Node.js action runner, one per container (child process). It plays the role of the nodejs
// runtime's action proxy: `init` loads the code once and `run` calls `main(params)`, with the same
// result rules and `__OW_*` environment. Messages arrive over the IPC channel with the bodies the
// proxy's POST /init and POST /run receive; replies carry the proxy's HTTP status and JSON body text.
// This file runs without the TypeScript loader: runner-script.ts bundles it into plain JavaScript.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import vm from 'node:vm';
import { type InitMessage, LOG_SENTINEL, type ReplyMessage, type RunMessage } from './protocol.ts';

type Main = (params: unknown) => unknown;

const identifier = /^[A-Za-z_$][\w$]*$/;

function reply(message: ReplyMessage): void {
  process.send?.(message);
}

function errorReply(op: ReplyMessage['op'], status: number, error: unknown): void {
  reply({ op, status, body: JSON.stringify({ error }) });
}

/** Plain data for an Error (name, message, stack and own fields); other values as they are. */
function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err ?? {};
  const fields: Record<string, unknown> = { name: err.name, message: err.message, stack: err.stack };
  for (const [k, v] of Object.entries(err)) fields[k] = v;
  return fields;
}

/** The action's entry point, or undefined when `main` names no function. */
function load(value: InitMessage['value'], requireFrom: string): Main | undefined {
  if (value.binary) throw new Error('binary (zip) actions are not supported by whisk-sim');
  const mainName = value.main || 'main';
  const byName = identifier.test(mainName)
    ? `typeof ${mainName} === 'function' ? ${mainName} : undefined`
    : 'undefined';
  const module = { exports: {} as Record<string, unknown> };
  const wrapper = `(function (require, module, exports, __filename, __dirname) {${value.code}\n;return ${byName};\n})`;
  const factory = vm.runInThisContext(wrapper, { filename: `${value.name}.js` }) as (
    ...args: unknown[]
  ) => unknown;
  const found =
    factory(createRequire(requireFrom), module, module.exports, `${value.name}.js`, dirname(requireFrom)) ??
    module.exports[mainName];
  return typeof found === 'function' ? (found as Main) : undefined;
}

function endActivation(): void {
  process.stdout.write(`${LOG_SENTINEL}\n`);
  process.stderr.write(`${LOG_SENTINEL}\n`);
}

async function run(main: Main, message: RunMessage): Promise<void> {
  for (const [key, v] of Object.entries(message)) {
    if (key !== 'op' && key !== 'value' && typeof v === 'string')
      process.env[`__OW_${key.toUpperCase()}`] = v;
  }
  let pending: unknown;
  try {
    pending = main(message.value);
  } catch (err) {
    errorReply('run', 502, `An error has occurred: ${err}`);
    return endActivation();
  }
  let result: unknown;
  try {
    result = await pending;
  } catch (err) {
    reply({ op: 'run', status: 200, body: JSON.stringify({ error: serializeError(err) }) });
    return endActivation();
  }
  result ??= {};
  if (typeof result !== 'object') {
    errorReply('run', 502, 'The action did not return a dictionary.');
    return endActivation();
  }
  let body: string;
  try {
    body = JSON.stringify(result);
  } catch (err) {
    errorReply('run', 502, `The action did not produce a valid JSON response: ${(err as Error).message}`);
    return endActivation();
  }
  reply({ op: 'run', status: 200, body });
  endActivation();
}

function serve(requireFrom: string): void {
  let main: Main | undefined;
  process.on('message', (message: InitMessage | RunMessage) => {
    if (message.op === 'init') {
      if (main) return errorReply('init', 403, 'Cannot initialize the action more than once.');
      if (!message.value.code) return errorReply('init', 403, 'Missing main/no code to execute.');
      Object.assign(process.env, message.value.env);
      try {
        main = load(message.value, requireFrom);
      } catch (err) {
        return errorReply('init', 502, `Initialization has failed due to: ${err}`);
      }
      if (!main)
        return errorReply(
          'init',
          502,
          `Action entrypoint '${message.value.main || 'main'}' is not a function.`,
        );
      return reply({ op: 'init', status: 200, body: '{"ok":true}' });
    }
    if (!main) return errorReply('run', 403, 'Missing main/no code to execute.');
    void run(main, message);
  });
  reply({ op: 'ready', status: 200, body: '{}' });
}

// argv[2]: the file whose node_modules the action's require() sees (the openwhisk client among them).
const requireFrom = process.argv[2];
if (!process.send || !requireFrom) throw new Error('the action runner must be forked with an IPC channel');
serve(requireFrom);
