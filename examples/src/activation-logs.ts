// The action wrapper logs into its activation records, as every OpenWhisk action does; a real
// deployment forwards those logs to its log store. Here they are copied into the run directory,
// one file per host, so that `mecqkd trace` finds the wrapper's lines beside everyone else's.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import openwhisk from 'openwhisk';
import type { DemoSystem } from './system.ts';

/** Rewrites `<run>/logs/activations-<host>.log` from the latest activations of each host. */
export async function exportActivationLogs(sys: DemoSystem, limit = 200): Promise<void> {
  for (const [host, w] of Object.entries(sys.tb.whisks)) {
    const ow = openwhisk({ apihost: w.apiHost, api_key: w.auth, namespace: w.namespace });
    const records = (await ow.activations.list({ limit, docs: true })) as { logs?: string[] }[];
    const lines = records.flatMap((r) => r.logs ?? []).sort();
    writeFileSync(join(sys.runDir, 'logs', `activations-${host}.log`), lines.map((l) => `${l}\n`).join(''));
  }
}
