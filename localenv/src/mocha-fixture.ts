// Mocha global fixture: whatever a test run started (the shared control plane, redis, simulators)
// is stopped when the run ends, whether tests passed or failed. (Mocha require()s this file while
// tests import() theirs; shared.ts and process.ts keep their state on globalThis for that reason.)
import { stopAll } from '@mecqkd/common/process';
import { stopShared } from './shared.ts';

export async function mochaGlobalTeardown(): Promise<void> {
  await stopShared();
  await stopAll();
}
