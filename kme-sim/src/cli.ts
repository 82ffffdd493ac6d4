// `kme-sim`: run KMEs from a config file, or write development certificates for them.
import { parseArgs } from 'node:util';
import { writeCerts } from './certs.ts';
import { loadConfig } from './config.ts';
import { startKmes } from './kme.ts';

const HELP = `kme-sim — ETSI GS QKD 014 KMEs with simulated QKD links and trusted-node relay

Usage:
  kme-sim serve --config FILE [--kme ID]...
      Runs the KMEs of FILE (YAML or JSON, see kme-sim/README.md); --kme picks some of them (default all).
      Prints one JSON line {"ready":true,"kmes":[{id,url,opsUrl}]} on stdout once listening.
  kme-sim certs --out DIR [--kme ID]... [--sae ID]... [--admin CN]... [--dns NAME]... [--ip ADDR]...
      Writes a development CA (reused if DIR already has one), KME certificates (CN = KME ID, SAN
      localhost, 127.0.0.1 and the given --dns/--ip), SAE client certificates (CN = SAE ID) and admin
      client certificates (CN as listed in a KME's admins): DIR/ca.pem, DIR/<ID>.pem, DIR/<ID>-key.pem.
  kme-sim --help
`;

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, kme: { type: 'string', multiple: true } },
  });
  if (!values.config) throw new Error('serve needs --config FILE');
  const kmes = await startKmes(loadConfig(values.config), values.kme ?? []);
  const stop = () => {
    void Promise.all(kmes.map((k) => k.close())).finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(
    `${JSON.stringify({ ready: true, kmes: kmes.map((k) => ({ id: k.id, url: k.url, opsUrl: k.opsUrl })) })}\n`,
  );
}

async function certs(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string' },
      kme: { type: 'string', multiple: true },
      sae: { type: 'string', multiple: true },
      admin: { type: 'string', multiple: true },
      dns: { type: 'string', multiple: true },
      ip: { type: 'string', multiple: true },
    },
  });
  if (!values.out) throw new Error('certs needs --out DIR');
  const written = await writeCerts(values.out, {
    kmes: (values.kme ?? []).map((id) => ({ id, dnsNames: values.dns ?? [], ipAddresses: values.ip ?? [] })),
    saes: values.sae ?? [],
    admins: values.admin ?? [],
  });
  process.stdout.write(`${JSON.stringify(written, null, 2)}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (command === 'serve') return serve(rest);
  if (command === 'certs') return certs(rest);
  throw new Error(`unknown command ${command}; see kme-sim --help`);
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`kme-sim: ${err.message}\n`);
  process.exit(2);
});
