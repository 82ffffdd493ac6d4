// `mecqkd key-quota`: the key quota to give a client SAE at its own KME (QKD 015 app_qos; kme-sim's
// `appQos`, the chart's `lab.clientAppQos`) from the MecApps whose contexts it serves — the rule the
// host SAEs enforce per context, summed (saeKeyQuota), so the number is never set by hand.
import { readFileSync } from 'node:fs';
import { mecAppSpec } from '@mecqkd/crds';
import { parseAllDocuments } from 'yaml';
import { saeKeyQuota } from '../../key-allowance.ts';
import { type Command, int, UsageError } from '../command.ts';

function placements(file: string) {
  let docs: unknown[];
  try {
    docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS());
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return docs.flatMap((d) => {
    const doc = d as { kind?: unknown; metadata?: { name?: unknown }; spec?: unknown } | null;
    if (doc?.kind !== 'MecApp') return [];
    const spec = mecAppSpec.safeParse(doc.spec);
    if (!spec.success)
      throw new UsageError(`${file}: MecApp ${String(doc.metadata?.name)}: ${spec.error.issues[0]?.message}`);
    return [spec.data.placement];
  });
}

export const keyQuota: Command = {
  name: 'key-quota',
  summary: "a client SAE's key quota at its KME (QKD 015 app_qos) from the MecApps it serves",
  args: '<mecapp.yaml>...',
  description:
    'Reads the MecApp manifests in the files and prints {maxBandwidth, burstBits}: the key allowance of ' +
    '--contexts contexts of each app, summed, in key bits — for kme-sim appQos or Helm lab.clientAppQos.',
  options: [
    {
      name: 'contexts',
      type: 'string',
      description: 'contexts of each app the SAE holds at once',
      default: '1',
    },
  ],
  async run({ flags, positionals, out }) {
    if (positionals.length === 0) throw new UsageError('name at least one file with MecApp manifests');
    const contexts = int(flags, 'contexts', 1, 1);
    const apps = positionals.flatMap(placements);
    if (apps.length === 0) throw new UsageError(`no MecApp in ${positionals.join(', ')}`);
    const quota = saeKeyQuota(apps.flatMap((p) => Array.from({ length: contexts }, () => p)));
    out.result(quota, `maxBandwidth: ${quota.maxBandwidth}\nburstBits: ${quota.burstBits}`);
    return undefined;
  },
};
