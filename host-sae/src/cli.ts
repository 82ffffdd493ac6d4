// `host-sae --config FILE`: runs one host SAE (see host-sae/README.md for the file).
// `host-sae wrapper-secret …`: prints a host's wrapper secret, for provisioning its SAE.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadHostSaeConfig } from './config.ts';
import { startHostSae } from './server.ts';
import { hostWrapperSecret } from './wrapper-secret.ts';

const HELP = `host-sae: the host perimeter's SAE for secure invocation (one per MEC host)

Usage: host-sae --config FILE
       host-sae wrapper-secret --master-file FILE --namespace NS --sae-id ID [--out FILE]

  --config FILE   YAML or JSON: saeId, host, port, opsPort, tls {cert,key}, kme {url,ca,cert,key},
                  wrapperSecretFile, keyLifetimeSeconds, redis {url}, logLevel
  --help          this text

Serves the action wrapper's channel (TLS, ALPN mecqkd-sae/1, JSON lines) on port, /metrics and
/healthz on opsPort. Prints a JSON line {"ready":true,"url","opsUrl"} on stdout once listening.

wrapper-secret prints the secret the operator gives the actions of the MecHost in namespace NS whose
spec.kme.saeId is ID, derived from the operator's --wrapper-secret-file (the master); put it in that
host SAE's wrapperSecretFile (--out writes it there, mode 0600, instead of printing it). The master
itself belongs to the operator only.`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      'master-file': { type: 'string' },
      namespace: { type: 'string' },
      'sae-id': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return void console.log(HELP);
  if (positionals[0] === 'wrapper-secret') {
    const { 'master-file': masterFile, namespace, 'sae-id': saeId } = values;
    if (!masterFile || !namespace || !saeId)
      throw new Error(`wrapper-secret needs --master-file, --namespace and --sae-id\n\n${HELP}`);
    const master = readFileSync(masterFile, 'utf8').trim();
    const secret = `${hostWrapperSecret(master, { namespace, saeId })}\n`;
    // --out lets a container write it without a shell (the chart's init container)
    return void (values.out
      ? writeFileSync(values.out, secret, { mode: 0o600 })
      : process.stdout.write(secret));
  }
  if (positionals.length > 0) throw new Error(`unknown command ${positionals[0]}\n\n${HELP}`);
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
