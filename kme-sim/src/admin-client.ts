// A client of a KME's admin endpoint: mutual TLS with a certificate whose CN is one of the KME's `admins`,
// answers validated, refusals thrown with their ProblemDetails.
import { type MtlsIdentity, mtlsAgent, requestJson } from './https-json.ts';
import type { LinkAdjustment } from './link.ts';
import { LinkStatus } from './link-status.ts';
import { Problem } from './problem.ts';

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
  close(): void;
}

export function createAdminClient(opts: AdminClientOptions): AdminClient {
  const agent = mtlsAgent(opts, 2);
  const base = new URL(opts.url);
  return {
    async adjustLink(linkId, change) {
      const path = `/mecqkd/v1/admin/links/${encodeURIComponent(linkId)}`;
      const res = await requestJson(agent, base, path, {
        method: 'POST',
        body: change,
        timeoutMs: opts.timeoutMs ?? 10_000,
      });
      const what = `adjusting QKD link ${linkId} at ${base.origin}`;
      if (res.status !== 200) {
        const p = Problem.safeParse(res.body);
        const detail = p.success ? p.data.detail : res.text.slice(0, 200);
        throw new AdminError(`${what}: HTTP ${res.status}: ${detail}`, res.status, p.data);
      }
      const status = LinkStatus.safeParse(res.body);
      if (!status.success) throw new Error(`${what}: the KME answered an invalid LinkStatus`);
      return status.data;
    },
    close: () => agent.destroy(),
  };
}
