// One control plane and one redis per test run, started on first use and stopped by the mocha
// global teardown, so suites that need neither do not pay for them.
import { processGlobal } from '@mecqkd/common/process-global';
import { type ControlPlane, startControlPlane } from './control-plane.ts';
import { type RedisServer, startRedis } from './redis.ts';

interface SharedState {
  plane?: Promise<ControlPlane>;
  redis?: Promise<RedisServer>;
}

const state = processGlobal('localenv/shared', () => ({}) as SharedState);

export function sharedControlPlane(): Promise<ControlPlane> {
  state.plane ??= startControlPlane();
  return state.plane;
}

export function sharedRedis(): Promise<RedisServer> {
  state.redis ??= startRedis();
  return state.redis;
}

export async function stopShared(): Promise<void> {
  const pending = [state.plane, state.redis];
  state.plane = undefined;
  state.redis = undefined;
  for (const p of pending) {
    if (!p) continue;
    try {
      await (await p).stop();
    } catch {
      /* a start that failed has nothing to stop */
    }
  }
}
