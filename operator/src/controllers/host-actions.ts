// Actions on each host's OpenWhisk: the endpoint the MecHost reconciler resolved, the actions known
// to exist there, and the only code that deploys or removes them (under a per-action lock).

import { actionMetrics } from '@mecqkd/kube/metrics';
import type { DesiredAction } from '../openwhisk/action.ts';
import {
  ensureAction,
  managedActions,
  removeAction,
  type Whisk,
  type WhiskEndpoint,
  whiskClient,
} from '../openwhisk/deployer.ts';
import { KeyedLock } from './keyed-lock.ts';

interface HostEntry {
  endpoint: WhiskEndpoint;
  client: Whisk;
  /** Actions this process deployed or saw listed; forgotten when removed. */
  known: Set<string>;
}

export class HostActions {
  private readonly hosts = new Map<string, HostEntry>();
  private readonly lock = new KeyedLock();
  /** Deploys in flight, so concurrent placements of one action deploy it once. */
  private readonly deploying = new Map<string, Promise<void>>();

  /** Registers (or refreshes) a host's OpenWhisk endpoint; a changed endpoint forgets what was known. */
  setEndpoint(host: string, endpoint: WhiskEndpoint): void {
    const current = this.hosts.get(host);
    if (current && JSON.stringify(current.endpoint) === JSON.stringify(endpoint)) return;
    this.hosts.set(host, { endpoint, client: whiskClient(endpoint), known: new Set() });
  }

  forgetHost(host: string): void {
    this.hosts.delete(host);
  }

  endpoint(host: string): WhiskEndpoint | undefined {
    return this.hosts.get(host)?.endpoint;
  }

  client(host: string): Whisk | undefined {
    return this.hosts.get(host)?.client;
  }

  private entry(host: string): HostEntry {
    const e = this.hosts.get(host);
    if (!e) throw new Error(`host ${host} has no resolved OpenWhisk endpoint yet`);
    return e;
  }

  /**
   * Deploys `action` on `host` unless it is known to be there, then runs `record` (the status write
   * that makes a context a user of the action) under the same lock, so no removal can slip between.
   */
  deployThen<T>(host: string, action: DesiredAction, record: () => Promise<T>): Promise<T> {
    const e = this.entry(host);
    const key = `${host}/${action.name}`;
    return this.lock.shared(key, async () => {
      if (!e.known.has(action.name)) {
        let inflight = this.deploying.get(key);
        if (!inflight) {
          inflight = (async () => {
            if (await ensureAction(e.client, action)) actionMetrics.deployed.inc();
            e.known.add(action.name);
          })().finally(() => this.deploying.delete(key));
          this.deploying.set(key, inflight);
        }
        await inflight;
      }
      return record();
    });
  }

  /** Removes `action` from `host` when `inUse()`, asked under the lock, says no context needs it. */
  removeIfUnused(host: string, action: string, inUse: () => boolean): Promise<boolean> {
    const e = this.hosts.get(host);
    if (!e) return Promise.resolve(false);
    return this.lock.exclusive(`${host}/${action}`, async () => {
      if (inUse()) return false;
      const removed = await removeAction(e.client, action);
      if (removed) actionMetrics.removed.inc();
      e.known.delete(action);
      return removed;
    });
  }

  /**
   * Makes the host's managed actions exactly the needed ones: removes leftovers (e.g. after a crash
   * between deploy and status write) and notes what exists. Returns the names it removed.
   */
  async converge(host: string, inUse: (action: string) => boolean): Promise<string[]> {
    const e = this.entry(host);
    const present = await managedActions(e.client);
    e.known.clear();
    for (const name of present) e.known.add(name);
    const removed: string[] = [];
    for (const name of present) {
      if (await this.removeIfUnused(host, name, () => inUse(name))) removed.push(name);
    }
    return removed;
  }
}
