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

function initError(status: number, error: unknown): void {
  reply({ op: 'init', status, body: JSON.stringify({ error }) });
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

/**
 * Tracks output through process.stdout/stderr (console included) so that sentinels are written only
 * after output. Bytes written to fd 1/2 by other means (fs.writeSync, inherited stdio) are still
 * collected, but may be attributed to a later activation when that activation printed nothing else.
 */
function trackOutput(): { printed: () => boolean; end: () => void } {
  let printed = false;
  const writes = [process.stdout, process.stderr].map((stream) => {
    const write = stream.write.bind(stream);
    stream.write = ((...args: Parameters<typeof write>) => {
      printed = true;
      return write(...args);
    }) as typeof stream.write;
    return write;
  });
  return {
    printed: () => printed,
    end: () => {
      printed = false;
      for (const write of writes) write(`${LOG_SENTINEL}\n`);
    },
  };
}

const output = trackOutput();

/** The /run reply, then the log sentinels if anything was printed since the last ones. */
function runReply(status: number, body: string): void {
  const logs = output.printed();
  reply({ op: 'run', status, body, logs });
  if (logs) output.end();
}

function runError(status: number, error: unknown): void {
  runReply(status, JSON.stringify({ error }));
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
    return runError(502, `An error has occurred: ${err}`);
  }
  let result: unknown;
  try {
    result = await pending;
  } catch (err) {
    return runReply(200, JSON.stringify({ error: serializeError(err) }));
  }
  result ??= {};
  if (typeof result !== 'object') return runError(502, 'The action did not return a dictionary.');
  let body: string;
  try {
    body = JSON.stringify(result);
  } catch (err) {
    return runError(502, `The action did not produce a valid JSON response: ${(err as Error).message}`);
  }
  runReply(200, body);
}

function serve(requireFrom: string): void {
  let main: Main | undefined;
  process.on('message', (message: InitMessage | RunMessage) => {
    if (message.op === 'init') {
      if (main) return initError(403, 'Cannot initialize the action more than once.');
      if (!message.value.code) return initError(403, 'Missing main/no code to execute.');
      Object.assign(process.env, message.value.env);
      try {
        main = load(message.value, requireFrom);
      } catch (err) {
        return initError(502, `Initialization has failed due to: ${err}`);
      }
      if (!main)
        return initError(502, `Action entrypoint '${message.value.main || 'main'}' is not a function.`);
      return reply({ op: 'init', status: 200, body: '{"ok":true}' });
    }
    if (!main) return runError(403, 'Missing main/no code to execute.');
    void run(main, message);
  });
  reply({ op: 'ready', status: 200, body: '{}' });
}

// argv[2]: the file whose node_modules the action's require() sees (the openwhisk client among them).
const requireFrom = process.argv[2];
if (!process.send || !requireFrom) throw new Error('the action runner must be forked with an IPC channel');
serve(requireFrom);
