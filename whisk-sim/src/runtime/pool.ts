// The invoker's container pool: warm reuse per action, cold starts while user memory is free,
// eviction of idle containers of other actions when it is not, and a FIFO run buffer when every
// megabyte is busy. Idle containers are removed after `idleMs`.
import { Container, type ContainerOptions } from './container.ts';

export interface PoolOptions {
  capacityMb: number;
  idleMs: number;
  /** The `__OW_API_HOST` of new containers (known once the server listens). */
  apiHost: () => string;
  /** Called for every container handed out: `cold` (new) or `warmed` (reused). */
  onStart?: (state: 'cold' | 'warmed') => void;
}

export interface Lease {
  container: Container;
  cold: boolean;
}

interface Waiter {
  key: string;
  memoryMb: number;
  env: Record<string, string>;
  grant: (lease: Lease) => void;
  fail: (err: Error) => void;
}

export interface PoolStats {
  activeCount: number;
  idlesCount: number;
  runBufferCount: number;
  activeSizeMb: number;
  idlesSizeMb: number;
}

export function createPool(opts: PoolOptions) {
  const busy = new Set<Container>();
  /** Idle containers, least recently used first. */
  const idle: Container[] = [];
  const idleTimers = new Map<Container, NodeJS.Timeout>();
  const buffer: Waiter[] = [];
  const sizeOf = (list: Iterable<Container>) => [...list].reduce((mb, c) => mb + c.memoryMb, 0);

  function removeIdle(container: Container): void {
    const i = idle.indexOf(container);
    if (i >= 0) idle.splice(i, 1);
    clearTimeout(idleTimers.get(container));
    idleTimers.delete(container);
  }

  function tryLease(key: string, memoryMb: number, env: Record<string, string>): Lease | undefined {
    const warm = idle.findLast((c) => c.key === key && c.alive);
    if (warm) {
      removeIdle(warm);
      busy.add(warm);
      opts.onStart?.('warmed');
      return { container: warm, cold: false };
    }
    let free = opts.capacityMb - sizeOf(busy) - sizeOf(idle);
    const evictable = free + sizeOf(idle);
    if (evictable < memoryMb) return undefined;
    while (free < memoryMb) {
      const victim = idle[0] as Container;
      removeIdle(victim);
      victim.destroy();
      free += victim.memoryMb;
    }
    const container = new Container({
      key,
      memoryMb,
      apiHost: opts.apiHost(),
      env,
    } satisfies ContainerOptions);
    busy.add(container);
    opts.onStart?.('cold');
    return { container, cold: true };
  }

  function drain(): void {
    while (buffer.length > 0) {
      const head = buffer[0] as Waiter;
      const lease = tryLease(head.key, head.memoryMb, head.env);
      if (!lease) return;
      buffer.shift();
      head.grant(lease);
    }
  }

  return {
    /** A container for `key`, now or when memory frees up (FIFO). */
    acquire(key: string, memoryMb: number, env: Record<string, string> = {}): Promise<Lease> {
      if (memoryMb > opts.capacityMb) {
        return Promise.reject(
          new Error(`action needs ${memoryMb} MB but the invoker's user memory is ${opts.capacityMb} MB`),
        );
      }
      const lease = buffer.length === 0 ? tryLease(key, memoryMb, env) : undefined;
      if (lease) return Promise.resolve(lease);
      return new Promise((grant, fail) => buffer.push({ key, memoryMb, env, grant, fail }));
    },

    /** Returns a container: healthy ones stay warm, others are destroyed. */
    release(container: Container, healthy: boolean): void {
      busy.delete(container);
      if (healthy && container.alive) {
        idle.push(container);
        const timer = setTimeout(() => {
          removeIdle(container);
          container.destroy();
        }, opts.idleMs);
        timer.unref();
        idleTimers.set(container, timer);
      } else {
        container.destroy();
      }
      drain();
    },

    stats(): PoolStats {
      return {
        activeCount: busy.size,
        idlesCount: idle.length,
        runBufferCount: buffer.length,
        activeSizeMb: sizeOf(busy),
        idlesSizeMb: sizeOf(idle),
      };
    },

    /** Kills every container and fails whatever still waits in the run buffer. */
    shutdown(): void {
      for (const c of [...busy, ...idle]) c.destroy();
      for (const t of idleTimers.values()) clearTimeout(t);
      for (const w of buffer.splice(0)) w.fail(new Error('whisk-sim is shutting down'));
      idle.length = 0;
      busy.clear();
    },
  };
}
export type Pool = ReturnType<typeof createPool>;
