// Reachability probes of a host's OpenWhisk and KME, and of a link's KMEs. Each answers with a
// CamelCase reason and a message for the Ready condition instead of throwing.
import { type Agent, request } from 'node:https';
import type { Whisk } from '../openwhisk/deployer.ts';
import { resolveNamespace } from '../openwhisk/namespace.ts';

export interface ProbeResult {
  ok: boolean;
  reason: string;
  message: string;
}

export type OpenWhiskProbe = ProbeResult & { namespace?: string };

export interface TlsMaterial {
  ca: string;
  cert: string;
  key: string;
}

/** Reachability with the host's key, and the namespace `namespace` (maybe `_`) stands for. */
export async function probeOpenWhisk(ow: Whisk, apiHost: string, namespace: string): Promise<OpenWhiskProbe> {
  try {
    const namespaces = await ow.namespaces.list();
    const resolved = resolveNamespace(namespace, namespaces);
    if (!resolved.ok) return { ok: false, reason: 'OpenWhiskNamespaceUnknown', message: resolved.message };
    return {
      ok: true,
      reason: 'Reachable',
      message: `OpenWhisk at ${apiHost} answers; namespaces ${namespaces.join(', ')}`,
      namespace: resolved.namespace,
    };
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 401 || status === 403) {
      return {
        ok: false,
        reason: 'OpenWhiskUnauthorized',
        message: `OpenWhisk at ${apiHost} refused the credentials (HTTP ${status})`,
      };
    }
    return {
      ok: false,
      reason: 'OpenWhiskUnreachable',
      message: `OpenWhisk at ${apiHost}: ${(err as Error).message}`,
    };
  }
}

/** GET over HTTPS with the client certificate of `agent` (tls-agents.ts); JSON bodies are parsed. */
export function mtlsGet(
  url: string,
  agent: Agent,
  timeoutMs = 5000,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method: 'GET', timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * ETSI GS QKD 014 Get status for the host SAE itself (master and slave on one KME): a 200, or a
 * QKD 014 error body, proves the KME is up, trusts the host SAE certificate, and speaks QKD 014.
 */
export async function probeKme(kmeUrl: string, saeId: string, agent: Agent): Promise<ProbeResult> {
  const url = `${kmeUrl.replace(/\/+$/, '')}/api/v1/keys/${encodeURIComponent(saeId)}/status`;
  try {
    const res = await mtlsGet(url, agent);
    if (res.status === 200)
      return { ok: true, reason: 'Reachable', message: `KME at ${kmeUrl} answers QKD 014 status` };
    if (res.status === 401) {
      return {
        ok: false,
        reason: 'KmeUnauthorized',
        message: `KME at ${kmeUrl} does not know SAE ${saeId} (HTTP 401)`,
      };
    }
    const message = (res.body as { message?: string })?.message;
    if (typeof message === 'string')
      return { ok: true, reason: 'Reachable', message: `KME at ${kmeUrl} answers (${message})` };
    return {
      ok: false,
      reason: 'KmeUnreachable',
      message: `KME at ${kmeUrl}: unexpected HTTP ${res.status}`,
    };
  } catch (err) {
    return { ok: false, reason: 'KmeUnreachable', message: `KME at ${kmeUrl}: ${(err as Error).message}` };
  }
}
