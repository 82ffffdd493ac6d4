// `host-sae --config FILE`: runs one host SAE (see host-sae/README.md for the file).
import { parseArgs } from 'node:util';
import { loadHostSaeConfig } from './config.ts';
import { startHostSae } from './server.ts';

const HELP = `host-sae: the host perimeter's SAE for secure invocation (one per MEC host)

Usage: host-sae --config FILE

  --config FILE   YAML or JSON: saeId, host, port, opsPort, tls {cert,key}, kme {url,ca,cert,key},
                  wrapperSecretFile, keyLifetimeSeconds, logLevel
  --help          this text

Serves POST /v1/derive and /v1/failures over HTTPS to the action wrapper, /metrics and /healthz on
opsPort. Prints a JSON line {"ready":true,"url","opsUrl"} on stdout once listening.`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) return void console.log(HELP);
  if (!values.config) throw new Error(`--config FILE is required\n\n${HELP}`);
  const sae = await startHostSae(loadHostSaeConfig(values.config));
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void sae.close().finally(() => process.exit(0)));
  process.stdout.write(`${JSON.stringify({ ready: true, url: sae.url, opsUrl: sae.opsUrl })}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`host-sae: ${err.message}\n`);
  process.exit(2);
});
