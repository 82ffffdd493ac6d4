// A client of a KME's admin endpoint: mutual TLS with a certificate whose CN is one of the KME's `admins`,
// answers validated, refusals thrown with their ProblemDetails.
import { type MtlsIdentity, mtlsAgent, requestJson } from './https-json.ts';
import type { LinkAdjustment } from './link.ts';
import { LinkStatus } from './link-status.ts';
import { Problem } from './problem.ts';
import { type AppQos, SaeQos } from './quota.ts';

export interface AdminClientOptions extends MtlsIdentity {
  /** The KME's HTTPS base URL (not its ops URL: the admin endpoint needs mutual TLS). */
  url: string;
  timeoutMs?: number;
}

export class AdminError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    super(message);
  }
}

export interface AdminClient {
  /** Sets a link's rate, stock or generation at both of its ends; answers this end's new status. */
  adjustLink(linkId: string, change: LinkAdjustment): Promise<LinkStatus>;
  /** The key quota (QKD 015 app_qos) of an SAE attached to this KME; null when it has none. */
  saeQos(saeId: string): Promise<SaeQos>;
  /** Sets (null: lifts) an SAE's key quota at this KME; answers the quota now in force. */
  setSaeQos(saeId: string, appQos: AppQos | null): Promise<SaeQos>;
  close(): void;
}

export function createAdminClient(opts: AdminClientOptions): AdminClient {
  const agent = mtlsAgent(opts, 2);
  const base = new URL(opts.url);
  async function call<T>(
    what: string,
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
    shape: string,
  ): Promise<T> {
    const res = await requestJson(agent, base, path, { method, body, timeoutMs: opts.timeoutMs ?? 10_000 });
    const where = `${what} at ${base.origin}`;
    if (res.status !== 200) {
      const p = Problem.safeParse(res.body);
      const detail = p.success ? p.data.detail : res.text.slice(0, 200);
      throw new AdminError(`${where}: HTTP ${res.status}: ${detail}`, res.status, p.data);
    }
    const parsed = schema.safeParse(res.body);
    if (!parsed.success) throw new Error(`${where}: the KME answered an invalid ${shape}`);
    return parsed.data;
  }
  const qosPath = (saeId: string) => `/mecqkd/v1/admin/saes/${encodeURIComponent(saeId)}/app_qos`;
  return {
    adjustLink: (linkId, change) =>
      call(
        `adjusting QKD link ${linkId}`,
        'POST',
        `/mecqkd/v1/admin/links/${encodeURIComponent(linkId)}`,
        change,
        LinkStatus,
        'LinkStatus',
      ),
    saeQos: (saeId) =>
      call(`reading the key quota of SAE ${saeId}`, 'GET', qosPath(saeId), undefined, SaeQos, 'SaeQos'),
    setSaeQos: (saeId, appQos) =>
      call(`setting the key quota of SAE ${saeId}`, 'POST', qosPath(saeId), { appQos }, SaeQos, 'SaeQos'),
    close: () => agent.destroy(),
  };
}
