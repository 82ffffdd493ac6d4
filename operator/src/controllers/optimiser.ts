// Periodic re-optimisation (leader only): ask the pure optimiser which contexts to move, then move
// each one — deploy on the target first, flip the AppContext status (new host and referenceURI,
// migration record), record an Event, and remove the action from the origin if nobody uses it.
import { traceIdOf } from '@mecqkd/common/trace';
import type { AppContext } from '@mecqkd/crds';
import { splitKey } from '@mecqkd/kube/kube-paths';
import { actionMetrics } from '@mecqkd/kube/metrics';
import { optimise } from '../placement/optimise.ts';
import type { Migration, PlacedContext, ScoreWeights } from '../placement/types.ts';
import {
  type AppContextDeps,
  placementOf,
  placementWorld,
  removeIfUnused,
  writeStatus,
} from './appcontext.ts';
import { locationStatus, migratingStatus, placedStatus } from './appcontext-status.ts';
import { actionOfInstance } from './context-index.ts';
import type { EventSink } from './events.ts';

export interface OptimiserSettings {
  maxMigrationsPerRound: number;
  minScoreGain: number;
  cooldownMs: number;
  loadMargin: number;
  keyMargin: number;
  keyRateMargin: number;
  /** See OptimiseOptions.drainHorizonMs. */
  drainHorizonMs?: number;
  weights: ScoreWeights;
}

export interface OptimiserDeps extends AppContextDeps {
  optimiser: OptimiserSettings;
  events: EventSink;
}

function lastMigration(ctx: AppContext): number {
  const last = ctx.status?.migrations?.at(-1);
  return last ? Date.parse(last.time) : 0;
}

/** Migrations the optimiser proposes for one namespace, from the caches as they are now. */
export function proposeMigrations(d: OptimiserDeps, namespace: string): Migration[] {
  const world = placementWorld(d, namespace);
  const placed: PlacedContext[] = [];
  for (const [key, u] of d.index.placed()) {
    if (splitKey(key).namespace !== namespace) continue;
    const ctx = d.contexts.get(key);
    const demand = world.demandOf(u.app);
    if (!ctx || !demand) continue;
    placed.push({
      context: key,
      host: u.host,
      clientKmeId: ctx.spec.client.kmeId,
      demand,
      ...(ctx.spec.appLocation ? { requestedLocation: ctx.spec.appLocation } : {}),
      // the cool-down runs from the last move, not from the first placement
      placedAt: lastMigration(ctx),
      path: u.keyPath,
    });
  }
  return optimise(placed, world.hostViews, world.linkViews, {
    ...d.optimiser,
    maxHops: d.placement.maxHops,
    now: d.now(),
  } as Parameters<typeof optimise>[3]);
}

export async function migrate(
  d: AppContextDeps & Pick<OptimiserDeps, 'events'>,
  m: Migration,
): Promise<boolean> {
  const ctx = d.contexts.get(m.context);
  const { namespace } = splitKey(m.context);
  const target = d.hosts.get(`${namespace}/${m.to}`);
  const app = ctx && d.apps.get(`${namespace}/${ctx.spec.appName}`);
  if (!ctx || !target || !app || ctx.status?.host !== m.from || ctx.metadata.deletionTimestamp) return false;
  const desired = d.appActions.of(app);
  if (!desired.ok) return false;
  const origin = ctx.status.appInstanceId ? actionOfInstance(ctx.status.appInstanceId) : undefined;
  const now = new Date(d.now());
  const migrating: AppContext = await writeStatus(
    d,
    m.context,
    ctx,
    migratingStatus(ctx, m.to, m.reason, now),
  );
  const placement = placementOf(target, desired.action.name, m.path);
  const moved = await d.hostActions.deployThen(placement.hostKey, desired.action, () =>
    writeStatus(
      d,
      m.context,
      migrating,
      // a move into the requested location settles a LocationMet=False
      locationStatus(
        migrating,
        placedStatus(migrating, placement, now, { from: m.from, to: m.to, reason: m.reason }),
        undefined,
        now,
      ),
    ),
  );
  d.events.record(moved, {
    type: 'Normal',
    reason: 'Migrated',
    action: 'Migrate',
    note: `moved from ${m.from} to ${m.to} (${m.reason}); referenceURI ${placement.referenceURI}`,
  });
  actionMetrics.migrations.labels(m.reason).inc();
  d.log.info('Migrated AppContext', {
    key: m.context,
    traceId: traceIdOf(moved),
    from: m.from,
    to: m.to,
    reason: m.reason,
    referenceURI: placement.referenceURI,
  });
  if (origin) await removeIfUnused(d, `${namespace}/${m.from}`, origin);
  return true;
}

/** One optimisation round over every namespace that has hosts; returns the migrations carried out. */
export async function optimiseRound(d: OptimiserDeps): Promise<Migration[]> {
  const namespaces = new Set(d.hosts.list().map((h) => h.metadata.namespace!));
  const done: Migration[] = [];
  for (const ns of namespaces) {
    for (const m of proposeMigrations(d, ns)) {
      try {
        if (await migrate(d, m)) done.push(m);
      } catch (err) {
        // The next round sees the world as this failure left it and decides again.
        d.log.warn('Migration failed', {
          key: m.context,
          from: m.from,
          to: m.to,
          error: (err as Error).message,
        });
      }
    }
  }
  return done;
}
