// A lab worker: runs the jobs it is sent (a sweep task or an offline-optimum instance) and posts back
// the result.
import { parentPort } from 'node:worker_threads';
import { runOptimumTask } from './optimum.ts';
import type { Job } from './pool.ts';
import { runTask } from './sweep.ts';

parentPort?.on('message', async (job: Job) => {
  try {
    const result = job.kind === 'sweep' ? runTask(job.task) : await runOptimumTask(job.task);
    parentPort?.postMessage({ ok: true, result });
  } catch (err) {
    parentPort?.postMessage({ ok: false, error: (err as Error).stack ?? String(err) });
  }
});
