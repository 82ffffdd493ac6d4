// `whisk-sim`: starts one simulated OpenWhisk deployment from a config file and/or flags.
import { createLogger } from '@mecqkd/common/logger';
import { configFromArgs, HELP } from './args.ts';
import type { ConfigInput } from './config.ts';
import { startServer } from './server.ts';

async function main(): Promise<void> {
  let config: ConfigInput | 'help';
  try {
    config = configFromArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`whisk-sim: ${(err as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  if (config === 'help') {
    console.log(HELP);
    return;
  }
  const logger = createLogger('whisk-sim', config.logLevel ?? 'info');
  const sim = await startServer(config, logger);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void sim.close().finally(() => process.exit(0));
    });
  }
}

await main().catch((err: Error) => {
  console.error(`whisk-sim: ${err.message}`);
  process.exit(1);
});
