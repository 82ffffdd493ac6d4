// What the secret scan of a chaos run looks for, and where: the needles are the secrets the run
// handed out, the haystacks every place outside the perimeters that the run wrote to.
import { readFileSync } from 'node:fs';
import { CLIENTS } from '../../lcmp/test/support.ts';
import { getJson } from '../../operator/test/e2e/support.ts';
import type { ChaosReport } from './run.ts';
import { type Haystack, httpText, logFiles, type Needle, redisContents } from './secret-scan.ts';

/** The base64 of a PEM block's first line of content: enough to find the key in any text, never common. */
const pemBody = (pem: string) => pem.split('\n').find((l) => l && !l.startsWith('-----')) ?? pem;

export function runSecrets(r: ChaosReport): Needle[] {
  const { tb } = r.world;
  return [
    ...[...r.workload.keys].map((value) => ({ kind: 'QKD key', value })),
    ...[...r.workload.tokens].map((value) => ({ kind: 'bearer token', value })),
    { kind: 'plaintext argument', value: r.workload.plaintext },
    ...Object.values(CLIENTS).map((c) => ({ kind: 'client secret', value: c.secret })),
    { kind: 'wrapper secret', value: readFileSync(tb.secure.wrapperSecretFile, 'utf8').trim() },
    ...Object.values(tb.whisks).map((w) => ({ kind: 'OpenWhisk key', value: w.auth.split(':')[1]! })),
    // the PEM body of the private key that may cut a QKD link (kme-sim's admin), not its armour lines
    { kind: 'KME admin private key', value: pemBody(readFileSync(tb.kmes.admin.key, 'utf8')) },
  ];
}

export async function runHaystacks(r: ChaosReport): Promise<Haystack[]> {
  const { tb, operators } = r.world;
  const out: Haystack[] = [...logFiles(tb.dir)];
  out.push(await redisContents(r.world.redis.url));
  for (const kind of ['mechosts', 'mecapps', 'appcontexts', 'qkdlinks', 'events', 'leases'])
    out.push({ where: `kubectl get ${kind}`, text: JSON.stringify(await getJson(tb, kind)) });
  for (const [name, s] of Object.entries(operators)) {
    const p = s.current() as { healthUrl?: string } | undefined;
    if (p?.healthUrl) out.push(await httpText(`${name} /metrics`, `${p.healthUrl}/metrics`));
  }
  for (const h of tb.hosts) {
    const w = tb.whisks[h.name]!;
    out.push(await httpText(`${h.name} OpenWhisk /metrics`, w.metricsUrl));
    out.push(await httpText(`${h.name} host SAE /metrics`, `${tb.secure.hostSaes[h.name]!.opsUrl}/metrics`));
    const auth = `Basic ${Buffer.from(w.auth).toString('base64')}`;
    out.push(
      await httpText(
        `${h.name} activation records`,
        `${w.apiHost}/api/v1/namespaces/${w.namespace}/activations?docs=true&limit=200`,
        { authorization: auth },
      ),
    );
  }
  return out;
}
