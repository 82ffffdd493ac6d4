// Started by localenv.test.ts: brings up etcd and redis, prints their pids, then waits to be interrupted.

import { runningProcesses } from '@mecqkd/common/process';
import { startControlPlane } from '../src/control-plane.ts';
import { startRedis } from '../src/redis.ts';

const what = process.argv[2];
if (what === 'redis') await startRedis();
else await startControlPlane({ installCrds: false });
console.log(JSON.stringify(runningProcesses().map((p) => p.pid)));
setInterval(() => {}, 1000);
