// Actions on each host's OpenWhisk, keyed by the MecHost's namespace/name: the endpoint (resolved
// on first use from the MecHost and its Secret, refreshed by every host pass), the actions known to
// exist there, and the only code that deploys or removes them (under a per-action lock).

import { createHash } from 'node:crypto';
import { canonicalJson } from '@mecqkd/common/canonical-json';
import { actionMetrics } from '@mecqkd/kube/metrics';
import { BINDING_ANNOTATION, type DesiredAction, type HostBinder } from '../openwhisk/action.ts';
import {
  ensureAction,
  listManaged,
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

/** The OpenWhisk endpoint of a MecHost ("namespace/name"); undefined when there is no such host. */
export type EndpointResolver = (hostKey: string) => Promise<WhiskEndpoint | undefined>;

export interface Convergence {
  deployed: string[];
  removed: string[];
  /** The managed actions on the host afterwards, sorted. */
  present: string[];
}

export class HostActions {
  private readonly hosts = new Map<string, HostEntry>();
  private readonly lock = new KeyedLock();
  /** Deploys in flight, so concurrent placements of one action deploy it once. */
  private readonly deploying = new Map<string, Promise<void>>();
  /** First resolutions in flight, so a burst of reconciles (e.g. after a restart) reads the Secret once. */
  private readonly resolving = new Map<string, Promise<Whisk | undefined>>();

  constructor(
    private readonly resolve: EndpointResolver,
    /** What each host's copy of an action gets of its own (the wrapper secret). */
    private readonly bindHost?: HostBinder,
  ) {}

  /** `action` as deployed on this host. */
  private forHost(hostKey: string, e: HostEntry, action: DesiredAction): DesiredAction {
    if (!this.bindHost) return action;
    const saeId = e.endpoint.hostSaeId;
    if (!saeId) throw new Error(`MecHost ${hostKey}: no host SAE ID to bind action ${action.name} to`);
    const namespace = hostKey.slice(0, hostKey.indexOf('/'));
    const body = this.bindHost(action.body, { namespace, saeId });
    // a digest of the bound parameters, never the secret itself
    const binding = createHash('sha256').update(canonicalJson(body.parameters)).digest('hex');
    return {
      ...action,
      body: { ...body, annotations: [...body.annotations, { key: BINDING_ANNOTATION, value: binding }] },
    };
  }

  /**
   * Resolves the host's endpoint again (its Secret may have rotated); a changed endpoint forgets
   * what was known. Undefined when the host does not exist.
   */
  async refresh(hostKey: string): Promise<Whisk | undefined> {
    const endpoint = await this.resolve(hostKey);
    if (!endpoint) {
      this.hosts.delete(hostKey);
      return undefined;
    }
    const current = this.hosts.get(hostKey);
    if (current && JSON.stringify(current.endpoint) === JSON.stringify(endpoint)) return current.client;
    const entry = { endpoint, client: whiskClient(endpoint), known: new Set<string>() };
    this.hosts.set(hostKey, entry);
    return entry.client;
  }

  forgetHost(hostKey: string): void {
    this.hosts.delete(hostKey);
  }

  private async entry(hostKey: string): Promise<HostEntry | undefined> {
    if (!this.hosts.has(hostKey)) {
      let first = this.resolving.get(hostKey);
      if (!first) {
        first = this.refresh(hostKey).finally(() => this.resolving.delete(hostKey));
        this.resolving.set(hostKey, first);
      }
      await first;
    }
    return this.hosts.get(hostKey);
  }

  /**
   * Deploys `action` on the host unless it is known to be there, then runs `record` (the status
   * write that makes a context a user of the action) under the same lock, so no removal can slip
   * between.
   */
  async deployThen<T>(hostKey: string, action: DesiredAction, record: () => Promise<T>): Promise<T> {
    const e = await this.entry(hostKey);
    if (!e) throw new Error(`MecHost ${hostKey} not found: cannot deploy action ${action.name}`);
    const key = `${hostKey}/${action.name}`;
    return this.lock.shared(key, async () => {
      if (!e.known.has(action.name)) {
        let inflight = this.deploying.get(key);
        if (!inflight) {
          inflight = (async () => {
            if (await ensureAction(e.client, this.forHost(hostKey, e, action))) actionMetrics.deployed.inc();
            e.known.add(action.name);
          })().finally(() => this.deploying.delete(key));
          this.deploying.set(key, inflight);
        }
        await inflight;
      }
      return record();
    });
  }

  /**
   * Removes `action` from the host when `inUse()`, asked under the lock, says no context needs it.
   * False when it was not removed, including when the host's endpoint cannot be resolved.
   */
  async removeIfUnused(hostKey: string, action: string, inUse: () => boolean): Promise<boolean> {
    const e = await this.entry(hostKey);
    if (!e) return false;
    return this.lock.exclusive(`${hostKey}/${action}`, async () => {
      if (inUse()) return false;
      const removed = await removeAction(e.client, action);
      if (removed) actionMetrics.removed.inc();
      e.known.delete(action);
      return removed;
    });
  }

  /**
   * Makes the host's managed actions exactly the needed ones, both ways: deploys what a placed
   * context needs and is missing (e.g. deleted by hand), removes leftovers (e.g. after a crash
   * between deploy and status write). `needed` maps each action in use to its desired form, when
   * its app still builds it.
   */
  async converge(
    hostKey: string,
    needed: ReadonlyMap<string, DesiredAction | undefined>,
    inUse: (action: string) => boolean,
  ): Promise<Convergence> {
    const e = await this.entry(hostKey);
    if (!e) throw new Error(`MecHost ${hostKey} not found: cannot list its actions`);
    const managed = await listManaged(e.client);
    const listed = new Set(managed.keys());
    e.known.clear();
    const deployed: string[] = [];
    for (const [name, desired] of needed) {
      if (!desired) continue;
      const bound = this.forHost(hostKey, e, desired).body.annotations;
      const binding = bound.find((a) => a.key === BINDING_ANNOTATION)?.value;
      if (listed.has(name) && managed.get(name) === binding) {
        e.known.add(name);
        continue;
      }
      await this.deployThen(hostKey, desired, async () => undefined);
      deployed.push(name);
    }
    // listed but no longer built by their app: known, so that removal alone decides their fate
    for (const name of listed) if (!needed.get(name)) e.known.add(name);
    const removed: string[] = [];
    for (const name of listed) {
      if (await this.removeIfUnused(hostKey, name, () => inUse(name))) removed.push(name);
    }
    const present = [...listed, ...deployed].filter((n) => !removed.includes(n)).sort();
    return { deployed, removed, present };
  }
}
