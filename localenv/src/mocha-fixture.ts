// Mocha global fixture: whatever a test run started (the shared control plane, redis, simulators)
// is stopped when the run ends, whether tests passed or failed.
//
// Mocha loads this file with require() (tsx compiles it to CommonJS) but the test files with
// import(): static imports here would bind to CommonJS copies of shared.ts and process.ts that no test
// ever used, and teardown would find nothing to stop. Dynamic imports reach the ES module instances.
export async function mochaGlobalTeardown(): Promise<void> {
  const { stopShared } = await import('./shared.ts');
  const { stopAll } = await import('@mecqkd/common/process');
  await stopShared();
  await stopAll();
}
