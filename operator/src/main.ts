// `operator`: the mecqkd MEC Orchestrator binary. Flags and MECQKD_* environment variables (see
// --help); SIGTERM or SIGINT stop it gracefully, releasing the Lease (exit 0). A lost Lease or failed
// leader work ends it with exit 1 once that work has stopped: the kubelet (or any supervisor)
// restarts it and it campaigns again, rather than lingering as a replica that never leads.
import { createLogger } from '@mecqkd/common/logger';
import { helpText, parseOperatorConfig } from './config.ts';
import { startOperator } from './operator.ts';
import { buildParts } from './parts.ts';
import { parseReleaseCleanup, releaseCleanup, releaseCleanupHelp } from './release-cleanup.ts';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'release-cleanup') {
    if (argv.includes('--help')) return void process.stdout.write(releaseCleanupHelp());
    const log = createLogger('operator-release-cleanup');
    await releaseCleanup(parseReleaseCleanup(argv.slice(1), process.env), log);
    return;
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText());
    return;
  }
  const cfg = parseOperatorConfig(argv, process.env);
  const log = createLogger('operator');
  const operator = await startOperator(cfg, await buildParts(cfg, log));
  log.info('Operator started', {
    health: `${cfg.healthAddress}:${operator.health.port}`,
    leaderElect: cfg.leaderElect,
    namespace: cfg.namespace ?? '(all)',
  });
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info('Stopping', { signal });
      void operator.stop();
    });
  }
  await operator.done.then(
    () => process.exit(0),
    (err: Error) => {
      log.error('Exiting with status 1 so that the operator is restarted', { error: err.message });
      process.exit(1);
    },
  );
}

main().catch((err: Error) => {
  process.stderr.write(`operator: ${err.message}\n`);
  process.exit(1);
});
