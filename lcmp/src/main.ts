// `lcmp`: serve Mx2 (default), or the lab helpers `token` and `hash-secret` (see --help). SIGTERM or
// SIGINT stop the server gracefully, releasing the notifier Lease.
import { createLogger } from '@mecqkd/common/logger';
import { helpText, parseLcmpConfig } from './config.ts';
import { startLcmp } from './lcmp.ts';
import { hashSecretCommand, tokenCommand } from './token-cli.ts';

async function serve(argv: string[]): Promise<void> {
  const cfg = parseLcmpConfig(argv, process.env);
  const log = createLogger('lcmp');
  const lcmp = await startLcmp(cfg, log);
  log.info('LCMP started', { url: lcmp.url, healthPort: lcmp.health.port, namespace: cfg.namespace });
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info('Stopping', { signal });
      lcmp.stop().then(
        () => process.exit(0),
        (err: Error) => {
          log.error('Stop failed', { error: err.message });
          process.exit(1);
        },
      );
    });
  }
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === '--help' || command === '-h' || rest.includes('--help')) {
    process.stdout.write(helpText());
    return;
  }
  if (command === 'token') process.stdout.write(`${await tokenCommand(rest)}\n`);
  else if (command === 'hash-secret') process.stdout.write(`${await hashSecretCommand()}\n`);
  else if (command === 'serve') await serve(rest);
  else await serve(process.argv.slice(2));
}

main().catch((err: Error) => {
  process.stderr.write(`lcmp: ${err.message}\n`);
  process.exit(1);
});
