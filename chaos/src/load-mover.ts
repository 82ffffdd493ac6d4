// Load moved on purpose, so that contexts migrate from overload and not only from faults: another
// tenant's batch fills a host's OpenWhisk memory (3 × 288 MB of 1024, above the apps' maxLoad 0.8,
// as `make demo` does) for a while and then drains. The surge goes to the host serving the most
// contexts, so every surge has someone to move. Raising and lowering go into the history.
import { contexts, whisk } from '../../operator/test/e2e/support.ts';
import type { HistoryEvent } from './history.ts';
import { between, type Rng } from './rng.ts';
import type { ChaosWorld } from './world.ts';

export interface LoadMoverOptions {
  /** Quiet time before each surge, ms. */
  gapMs: [number, number];
  /** How long a surge holds the memory, ms. */
  surgeMs: [number, number];
}

const BATCH = 'tenant-batch';

/** The host serving the most Placed contexts (undefined when none is placed). */
export function busiestHost(placed: { host?: string }[]): string | undefined {
  const n = new Map<string, number>();
  for (const c of placed) if (c.host) n.set(c.host, (n.get(c.host) ?? 0) + 1);
  return [...n].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

async function surge(world: ChaosWorld, host: string, ms: number): Promise<void> {
  const ow = whisk(world.tb, host);
  // not annotated as managed: the operator neither owns nor removes it
  await ow.actions.update({
    name: BATCH,
    action: 'function main(p) { return new Promise((r) => setTimeout(() => r({}), p.ms)); }',
    limits: { memory: 288, timeout: 300_000 },
  });
  for (let i = 0; i < 3; i++) await ow.actions.invoke({ name: BATCH, blocking: false, params: { ms } });
}

export function startLoadMover(
  world: ChaosWorld,
  rng: Rng,
  history: HistoryEvent[],
  opts: LoadMoverOptions,
): { stop(): Promise<void> } {
  let running = true;
  let wake = () => {};
  // a sleep that stop() cuts short (a surge may hold for half a minute)
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const timer = setTimeout(r, ms);
      wake = () => {
        clearTimeout(timer);
        r();
      };
    });
  const loop = (async () => {
    while (running) {
      await sleep(between(rng, ...opts.gapMs));
      if (!running) break;
      const ms = between(rng, ...opts.surgeMs);
      let host: string | undefined;
      try {
        host = busiestHost(
          (await contexts(world.tb)).filter((c) => c.status?.phase === 'Placed').map((c) => c.status!),
        );
        if (host) await surge(world, host, ms);
      } catch {
        continue; // the apiserver or the host's OpenWhisk is down: the tenant tries later
      }
      if (!host) continue;
      history.push({ t: Date.now(), type: 'load', host, phase: 'raise' });
      await sleep(ms);
      history.push({ t: Date.now(), type: 'load', host, phase: 'lower' });
    }
  })();
  return {
    async stop() {
      running = false;
      wake();
      await loop;
    },
  };
}
