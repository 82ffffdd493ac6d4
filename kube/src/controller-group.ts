// A leader's work in the shape of controller-runtime's Manager: start the informers, wait (bounded)
// for their caches, start the controllers and the periodic loops, and run until told to stop or
// until an informer fails for good (401, 403, 404 on a watched resource) — then stop everything,
// loops first, controllers next (draining in-flight reconciles), informers last, and say why it ended.
// A failure rejects run(), which ends leadership and, through it, the process.
import { createLogger, type Logger } from '@mecqkd/common/logger';
import type { Controller } from './controller.ts';
import type { Informer } from './informer.ts';
import type { KubeObject } from './types.ts';

export interface ControllerGroupOptions {
  informers: Informer<KubeObject>[];
  controllers: Controller<KubeObject>[];
  /** Started once every cache has synced; `signal` aborts when the group stops. */
  loops?: (signal: AbortSignal) => Promise<void>[];
  /** How long the caches may take to sync before run() rejects (controller-runtime CacheSyncTimeout). */
  cacheSyncTimeoutMs?: number;
  logger?: Logger;
}

type Phase = 'idle' | 'syncing' | 'running' | 'failed' | 'stopped';

export class ControllerGroup {
  private phase: Phase = 'idle';
  private readonly log: Logger;

  constructor(private readonly opts: ControllerGroupOptions) {
    this.log = opts.logger ?? createLogger('controller-group');
  }

  /** For /readyz: running, and every cache synced and watching or reconnecting (none failed or stopped). */
  ready(): boolean {
    return this.phase === 'running' && this.opts.informers.every((i) => i.healthy());
  }

  /** Resolves once `signal` aborted and everything stopped; rejects when the work failed (after stopping it). */
  async run(signal: AbortSignal): Promise<void> {
    if (this.phase !== 'idle') throw new Error('a ControllerGroup runs once');
    this.phase = 'syncing';
    const { informers, controllers } = this.opts;
    const inner = new AbortController();
    const stop = () => inner.abort();
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    const stopped = new Promise<'stopped'>((resolve) =>
      inner.signal.addEventListener('abort', () => resolve('stopped'), { once: true }),
    );
    const failed = Promise.race(informers.map((i) => i.failed.then((error) => ({ informer: i, error }))));
    let loops: Promise<void>[] = [];
    try {
      for (const i of informers) i.start();
      const timeoutMs = this.opts.cacheSyncTimeoutMs ?? 120_000;
      const synced = Promise.all(informers.map((i) => i.waitForSync(timeoutMs))).then(
        () => 'synced' as const,
      );
      const first = await Promise.race([synced, stopped, failed]);
      if (first === 'stopped') return;
      if (first !== 'synced') throw informerFailed(first);
      await Promise.all(controllers.map((c) => c.start()));
      loops = this.opts.loops?.(inner.signal) ?? [];
      this.phase = 'running';
      this.log.info('Caches synced; controllers started', {
        informers: informers.map((i) => `${i.name}=${i.size}`).join(' '),
      });
      const end = await Promise.race([stopped, failed]);
      if (end !== 'stopped') throw informerFailed(end);
    } catch (err) {
      this.phase = 'failed';
      this.log.error('Controllers stop: their work failed', {
        error: err instanceof Error ? err.message : String(err),
      });
      throw err;
    } finally {
      stop();
      signal.removeEventListener('abort', stop);
      if (this.phase !== 'failed') this.phase = 'stopped';
      await Promise.all(loops);
      await Promise.all(controllers.map((c) => c.stop()));
      await Promise.all(informers.map((i) => i.stop()));
    }
  }
}

function informerFailed({ informer, error }: { informer: Informer<KubeObject>; error: Error }): Error {
  return new Error(`informer ${informer.name} stopped: ${error.message}`, { cause: error });
}
