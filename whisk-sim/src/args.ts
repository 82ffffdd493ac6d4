// Command-line flags of `whisk-sim`, turned into a configuration (flags override --config).
import { parseArgs } from 'node:util';
import { type ConfigInput, GUEST_KEY, GUEST_UUID, loadConfigFile } from './config.ts';

export const HELP = `whisk-sim: a local OpenWhisk-compatible function runtime (one per MEC host)

Usage: whisk-sim [--config FILE] [options]

  --config FILE        YAML or JSON config (see whisk-sim/README.md); flags override it
  --host HOST          listen address (default 127.0.0.1)
  --port PORT          listen port, 0 = any free port (default 3233)
  --auth UUID:KEY      credentials of the namespace (default: OpenWhisk's guest dev key)
  --namespace NAME     namespace of --auth (default guest)
  --capacity-mb MB     invoker user memory for action containers (default 1024)
  --invocations-per-minute N, --concurrent-invocations N
                       per-namespace throttles (default 60 and 30, as OpenWhisk)
  --api-host URL       __OW_API_HOST given to actions (default: the listening URL)
  --tls                serve HTTPS with a throw-away self-signed certificate
  --log-level LEVEL    error|warn|info|debug|silent (default info)
  --help               this text

Prints a JSON log line "whisk-sim listening" with the URL once ready.`;

function positiveInt(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer, got '${raw}'`);
  return n;
}

export function configFromArgs(argv: string[]): ConfigInput | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      config: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      auth: { type: 'string' },
      namespace: { type: 'string' },
      'capacity-mb': { type: 'string' },
      'invocations-per-minute': { type: 'string' },
      'concurrent-invocations': { type: 'string' },
      'api-host': { type: 'string' },
      tls: { type: 'boolean' },
      'log-level': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return 'help';
  const config: ConfigInput = values.config ? loadConfigFile(values.config) : {};
  if (values.host) config.host = values.host;
  const port = positiveInt('--port', values.port);
  if (port !== undefined) config.port = port;
  if (values.auth || values.namespace) {
    const [uuid, key] = (values.auth ?? `${GUEST_UUID}:${GUEST_KEY}`).split(':');
    if (!uuid || !key) throw new Error('--auth must be UUID:KEY');
    config.namespaces = [{ name: values.namespace ?? 'guest', uuid, key }];
  }
  const capacity = positiveInt('--capacity-mb', values['capacity-mb']);
  if (capacity !== undefined) config.capacityMb = capacity;
  const perMinute = positiveInt('--invocations-per-minute', values['invocations-per-minute']);
  const concurrent = positiveInt('--concurrent-invocations', values['concurrent-invocations']);
  if (perMinute !== undefined || concurrent !== undefined) {
    config.throttles = {
      ...config.throttles,
      ...(perMinute !== undefined ? { invocationsPerMinute: perMinute } : {}),
      ...(concurrent !== undefined ? { concurrentInvocations: concurrent } : {}),
    };
  }
  if (values['api-host']) config.apiHost = values['api-host'];
  if (values.tls) config.tls = { selfSigned: true };
  if (values['log-level']) config.logLevel = values['log-level'] as ConfigInput['logLevel'];
  return config;
}
