// Shared set-up for the tests that run kme-sim processes: a testbed and QKD 014 clients per SAE.
import { readFileSync } from 'node:fs';
import { createQkd014Client, type Qkd014Client } from '../src/client.ts';
import type { Testbed } from '../src/testbed.ts';

export function saeClient(tb: Testbed, saeId: string, kmeUrl?: string): Qkd014Client {
  const s = tb.saes[saeId];
  if (!s) throw new Error(`no SAE ${saeId} in the testbed`);
  return createQkd014Client({
    url: kmeUrl ?? s.url,
    ca: readFileSync(s.ca),
    cert: readFileSync(s.cert),
    key: readFileSync(s.key),
  });
}

/** GET on the KME's ops listener (read-only telemetry). */
export async function ops(tb: Testbed, kmeId: string, path: string): Promise<unknown> {
  const kme = tb.kmes[kmeId];
  if (!kme) throw new Error(`no KME ${kmeId}`);
  const res = await fetch(kme.opsUrl + path);
  if (!res.ok) throw new Error(`${path} on ${kmeId}: HTTP ${res.status} ${await res.text()}`);
  return res.headers.get('content-type')?.includes('json') ? res.json() : res.text();
}
