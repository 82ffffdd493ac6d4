// Runs lab jobs on a few worker threads (the machine is shared: LAB_WORKERS, default 2), with a
// progress line on stderr. Jobs go out longest first so no worker is left with a long tail.
import { Worker } from 'node:worker_threads';
import type { OptimumRow, OptimumTask } from './optimum.ts';
import type { Row, Task } from './sweep.ts';

export type Job = { kind: 'sweep'; task: Task } | { kind: 'optimum'; task: OptimumTask };
export type JobResult = Row[] | OptimumRow;

// On Node 20 a worker's entry is resolved before `--import tsx` applies, so the worker registers tsx
// itself and then imports the TypeScript entry.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import('tsx/esm/api').then(({ register }) => { register(); return import(workerData); });
`;

export async function runPool(jobs: readonly Job[], workers: number): Promise<JobResult[]> {
  const results: JobResult[] = new Array(jobs.length);
  let next = 0;
  let done = 0;
  const started = Date.now();
  const progress = () => {
    const elapsed = (Date.now() - started) / 1000;
    const eta = done ? (elapsed / done) * (jobs.length - done) : 0;
    process.stderr.write(
      `\rplacement-lab: ${done}/${jobs.length} jobs (${Math.round((100 * done) / jobs.length)}%), ${elapsed.toFixed(0)} s elapsed, ~${eta.toFixed(0)} s left   `,
    );
  };
  progress();
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(workers, jobs.length)) }, async () => {
      const w = new Worker(BOOTSTRAP, {
        eval: true,
        workerData: new URL('./worker.ts', import.meta.url).href,
      });
      try {
        for (;;) {
          const i = next++;
          const job = jobs[i];
          if (!job) break;
          results[i] = await new Promise<JobResult>((resolve, reject) => {
            const onError = (err: Error) => reject(err);
            w.once('error', onError);
            w.once('message', (msg: { ok: true; result: JobResult } | { ok: false; error: string }) => {
              w.off('error', onError);
              if (msg.ok) resolve(msg.result);
              else reject(new Error(`${job.kind} job ${JSON.stringify(job.task)}: ${msg.error}`));
            });
            w.postMessage(job);
          });
          done++;
          progress();
        }
      } finally {
        await w.terminate();
      }
    }),
  );
  process.stderr.write('\n');
  return results;
}
