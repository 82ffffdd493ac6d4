// `mecqkd status`: the MEC system at a glance from its resources — hosts (ready, load, key
// availability, contexts, actions), QKD links (state, key rate, keys left), and contexts (app, host,
// phase, migrations). Pure: the command reads the resources, this spells them out.
import { bitRate, percent } from '@mecqkd/common/units';
import type { AppContext, MecHost, QkdLink } from '@mecqkd/crds';

export interface SystemView {
  hosts: MecHost[];
  links: QkdLink[];
  contexts: AppContext[];
}

type Row = string[];

/** Left-aligned columns, two spaces apart. */
export function table(header: Row, rows: Row[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: Row) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const ready = (o: { status?: { conditions?: { type: string; status: string }[] } }) =>
  o.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? 'yes' : 'no';
const pct = (v: number | undefined) => (v === undefined ? '-' : `${percent(v)}%`);

export function formatStatus(v: SystemView): string {
  const hosts = table(
    ['HOST', 'READY', 'LOAD', 'KEYS', 'CONTEXTS', 'ACTIONS'],
    v.hosts.map((h) => [
      h.metadata.name,
      ready(h),
      pct(h.status?.load),
      pct(h.status?.keyAvailability),
      String(h.status?.contextCount ?? 0),
      (h.status?.deployedActions ?? []).join(', ') || '-',
    ]),
  );
  const links = table(
    ['LINK', 'FROM → TO', 'STATE', 'KEY RATE', 'KEYS LEFT', 'AVAILABLE'],
    v.links.map((l) => [
      l.metadata.name,
      `${l.spec.source.kmeId} → ${l.spec.target.kmeId}`,
      l.status?.state ?? '-',
      l.status?.secretKeyRate === undefined ? '-' : bitRate(l.status.secretKeyRate),
      l.status?.storedKeys === undefined
        ? '-'
        : `${l.status.storedKeys}${l.status.capacityKeys ? ` of ${l.status.capacityKeys}` : ''}`,
      pct(l.status?.keyAvailability),
    ]),
  );
  const contexts = table(
    ['CONTEXT', 'APP', 'DEVICE APP', 'PHASE', 'HOST', 'KEY PATH', 'MIGRATIONS'],
    v.contexts.map((c) => [
      c.metadata.name,
      c.spec.appName,
      c.spec.associateDevAppId,
      c.status?.phase ?? 'Pending',
      c.status?.host ?? '-',
      c.status?.keyPath?.join(' → ') ?? '-',
      String(c.status?.migrations?.length ?? 0),
    ]),
  );
  const section = (title: string, n: number, body: string) => `${title} (${n})\n${body}\n`;
  return [
    section('MEC hosts', v.hosts.length, hosts),
    section('QKD links', v.links.length, links),
    section('Application contexts', v.contexts.length, contexts),
  ].join('\n');
}
