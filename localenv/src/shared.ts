// One control plane and one redis per test run, started on first use and stopped by the mocha
// global teardown, so suites that need neither do not pay for them.
import { type ControlPlane, startControlPlane } from './control-plane.ts';
import { type RedisServer, startRedis } from './redis.ts';

let plane: Promise<ControlPlane> | undefined;
let redis: Promise<RedisServer> | undefined;

export function sharedControlPlane(): Promise<ControlPlane> {
  plane ??= startControlPlane();
  return plane;
}

export function sharedRedis(): Promise<RedisServer> {
  redis ??= startRedis();
  return redis;
}

export async function stopShared(): Promise<void> {
  const pending = [plane, redis];
  plane = undefined;
  redis = undefined;
  for (const p of pending) {
    if (!p) continue;
    try {
      await (await p).stop();
    } catch {
      /* a start that failed has nothing to stop */
    }
  }
}
