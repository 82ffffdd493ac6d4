// The real system the console runs against, as the e2e tests start it: control plane, Redis,
// two MEC hosts (whisk-sim + host SAE + KME), the client KME, the operator, the hospital's catalog
// from examples/manifests, a registered ward tablet and the LCMP.
import { join } from 'node:path';
import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import type { RunningOperator } from '@mecqkd/operator/operator';
import { registerClient, runLcmp } from '../../lcmp/test/support.ts';
import { runOperator, whisk } from '../../operator/test/e2e/support.ts';

const MANIFESTS = join(import.meta.dirname, '..', 'manifests');

export const TABLET = {
  clientId: 'ward-tablet-7',
  secret: 'ward-tablet-7-secret-0123456789',
  devAppIds: 'ward-tablet-7',
  apps: '*',
};

export interface ConsoleWorld {
  tb: MecTestbed;
  op: RunningOperator;
  lcmpUrl: string;
  stop(): Promise<void>;
}

export async function startConsoleWorld(prefix: string): Promise<ConsoleWorld> {
  const tb = await startMecTestbed({
    namespace: `${prefix}-${Date.now().toString(36)}`,
    hosts: [
      {
        name: 'host-1',
        capacityMb: 1024,
        labels: { 'mecqkd.io/zone': 'east-wing', 'mecqkd.io/site': 'pisa-hospital' },
        fibreKm: 10,
      },
      {
        name: 'host-2',
        capacityMb: 1024,
        labels: { 'mecqkd.io/zone': 'west-wing', 'mecqkd.io/site': 'pisa-hospital' },
        fibreKm: 25,
      },
    ],
  });
  const stops: (() => Promise<void>)[] = [() => tb.stop()];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };
  try {
    // each context moves once: the load that moved it must not pull it back when it ends
    const op = await runOperator(tb, { migrationCooldown: 600 });
    stops.push(() => op.stop());
    const files = ['actions-configmap.yaml', 'mecapp-cardio.yaml', 'mecapp-covid.yaml'];
    await tb.kubectl(['apply', ...files.flatMap((f) => ['-f', join(MANIFESTS, f)])]);
    await registerClient(tb, TABLET);
    const lcmp = await runLcmp(tb);
    stops.push(() => lcmp.stop());
    return { tb, op, lcmpUrl: lcmp.url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Fills a host's OpenWhisk invoker memory (4 × 256 MB of 1024 MB) for `ms`, as the migration tests do. */
export async function overload(tb: MecTestbed, hostName: string, ms = 30_000): Promise<void> {
  const ow = whisk(tb, hostName);
  await ow.actions.update({
    name: 'night-batch',
    action: 'function main(p) { return new Promise((r) => setTimeout(() => r({}), p.ms)); }',
    limits: { memory: 256, timeout: 120_000 },
  });
  for (let i = 0; i < 4; i++)
    await ow.actions.invoke({ name: 'night-batch', blocking: false, params: { ms } });
}
