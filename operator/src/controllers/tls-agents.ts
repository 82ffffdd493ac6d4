// One keep-alive HTTPS agent per object that probes a KME (a MecHost or a QkdLink), holding one
// SecureContext: probes repeat every period, and given only PEMs Node parses them into a new TLS
// context for every connection. When the object's credentials rotate, or the object goes, its agent
// and its open connections are closed, so the cache holds one agent per live prober.
import { createHash } from 'node:crypto';
import { Agent } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { TlsMaterial } from './probes.ts';

export class TlsAgents {
  private readonly agents = new Map<string, { digest: string; agent: Agent }>();

  /** The agent of `owner` (e.g. "MecHost ns/name") for these credentials; a previous set's agent is closed. */
  agentFor(owner: string, tls: TlsMaterial): Agent {
    // keyed by a digest, never by the PEMs themselves
    const digest = createHash('sha256').update(tls.ca).update(tls.cert).update(tls.key).digest('hex');
    const current = this.agents.get(owner);
    if (current?.digest === digest) return current.agent;
    current?.agent.destroy();
    const agent = new Agent({
      secureContext: createSecureContext({ ...tls, minVersion: 'TLSv1.2' }),
      keepAlive: true,
      maxSockets: 4,
    });
    this.agents.set(owner, { digest, agent });
    return agent;
  }

  drop(owner: string): void {
    this.agents.get(owner)?.agent.destroy();
    this.agents.delete(owner);
  }

  get size(): number {
    return this.agents.size;
  }
}

/** The process's agents: the MecHost and QkdLink reconcilers probe through it. */
export const tlsAgents = new TlsAgents();
