// The steady workload of a chaos or soak run: device apps creating, updating and deleting contexts
// over Mx2, and a client streaming secure invocations to the placed ones, each result checked.
// Everything the system answered goes into the history; the keys and plaintexts the client handled
// are remembered for the secret scan.
import type { AppContext } from '@mecqkd/crds';
import type { Qkd014Client } from '@mecqkd/kme-sim/client';
import { ApplicationError, InvocationRefused } from '@mecqkd/sdk/secure-invoke';
import { CLIENTS, call, createBody, tokenFor } from '../../lcmp/test/support.ts';
import { clientKme, contexts, secureInvoker } from '../../operator/test/e2e/support.ts';
import type { HistoryEvent } from './history.ts';
import { between, pick, type Rng } from './rng.ts';
import type { ChaosWorld } from './world.ts';
import { APPS } from './world.ts';

export interface WorkloadOptions {
  /** Contexts each device app keeps alive (it creates up to this many, then updates and deletes). */
  contextsPerDevice: number;
  devices: number;
  /** Pause between one device app's Mx2 calls and between invocations, ms. */
  mx2PeriodMs: [number, number];
  invokePeriodMs: number;
}

export interface Workload {
  history: HistoryEvent[];
  /** The plaintext every invocation carries (must never show up outside the perimeters). */
  plaintext: string;
  /** Base64 QKD keys the client received (must never show up anywhere else). */
  keys: Set<string>;
  /** Bearer tokens the device apps were issued. */
  tokens: Set<string>;
  /** Latencies of Mx2 calls and invocations, ms, with their time. */
  latencies: { t: number; what: 'mx2' | 'invoke'; ms: number }[];
  stop(): Promise<void>;
}

/** A QKD 014 client that remembers every key it hands out. */
function recording(kme: Qkd014Client, keys: Set<string>): Qkd014Client {
  return {
    ...kme,
    async encKeys(slave, request) {
      const c = await kme.encKeys(slave, request);
      for (const k of c.keys) keys.add(k.key);
      return c;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  app?: string;
  sum?: number;
  echo?: string;
  /** The OpenWhisk API host that ran the action. */
  at?: string;
}

/** What is wrong with an invocation's answer (undefined: it is the expected one, from the expected host). */
export function judge(got: Answer, want: Required<Omit<Answer, 'at'>> & { at?: string }): string | undefined {
  if (got.app !== want.app || got.sum !== want.sum || got.echo !== want.echo)
    return `expected ${want.app} ${want.sum}, got ${got.app} ${got.sum}`;
  if (got.at !== want.at) return `answered by the OpenWhisk at ${got.at}, the context is on ${want.at}`;
  return undefined;
}

export function startWorkload(world: ChaosWorld, rng: Rng, opts: WorkloadOptions): Workload {
  const history: HistoryEvent[] = [];
  const keys = new Set<string>();
  const tokens = new Set<string>();
  const latencies: Workload['latencies'] = [];
  const plaintext = `chaos-plaintext-${Math.floor(rng() * 1e12).toString(36)}`;
  const appOf = new Map<string, string>();
  let running = true;

  async function device(index: number) {
    const devAppId = 'ward-7';
    const mine: string[] = [];
    let token = '';
    const mx2 = async (method: string, path: string, body?: unknown) => {
      const t0 = Date.now();
      try {
        const fresh = async () => {
          token = await tokenFor(world.lcmp.url, CLIENTS.ward);
          tokens.add(token);
        };
        if (!token) await fresh();
        let r = await call(world.lcmp.url, method, path, { token, body });
        if (r.status === 401) {
          await fresh();
          r = await call(world.lcmp.url, method, path, { token, body });
        }
        latencies.push({ t: t0, what: 'mx2', ms: Date.now() - t0 });
        return r;
      } catch {
        token = '';
        return undefined; // the LCMP is down: the device app retries later
      }
    };
    while (running) {
      await sleep(between(rng, ...opts.mx2PeriodMs));
      if (!running) break;
      const roll = rng();
      if (mine.length < opts.contextsPerDevice && roll < 0.7) {
        const app = pick(rng, APPS);
        const body = createBody(app, { associateDevAppId: devAppId, callbackReference: world.receiver.url });
        const r = await mx2('POST', '/dev_app/v1/app_contexts', body);
        const id = r?.json?.contextId as string | undefined;
        history.push({
          t: Date.now(),
          type: 'create',
          status: r?.status ?? 0,
          app,
          ...(id ? { contextId: id } : {}),
        });
        if (r?.status === 201 && id) {
          mine.push(id);
          appOf.set(id, app);
        }
      } else if (mine.length > 0 && roll < 0.85) {
        const id = pick(rng, mine);
        const body = { ...createBody(appOf.get(id)!, { associateDevAppId: devAppId }), contextId: id };
        const r = await mx2('PUT', `/dev_app/v1/app_contexts/${id}`, {
          ...body,
          callbackReference: `${world.receiver.url}?d=${index}&n=${Math.floor(rng() * 1000)}`,
        });
        history.push({ t: Date.now(), type: 'update', status: r?.status ?? 0, contextId: id });
      } else if (mine.length > 0) {
        const id = mine[Math.floor(rng() * mine.length)]!;
        const r = await mx2('DELETE', `/dev_app/v1/app_contexts/${id}`);
        history.push({ t: Date.now(), type: 'delete', status: r?.status ?? 0, contextId: id });
        // 404: an earlier DELETE got through although its answer was lost
        if (r?.status === 204 || r?.status === 404) mine.splice(mine.indexOf(id), 1);
      }
    }
  }

  const whiskOf = (host: string) => world.tb.whisks[host]?.apiHost;

  async function client() {
    let kme = recording(clientKme(world.tb), keys);
    const invokers = new Map<string, ReturnType<typeof secureInvoker>>();
    // where the contexts are, looked up once a second rather than per invocation (kubectl is slow
    // on a loaded machine); a target that moved meanwhile answers 404 or from the host it left
    let placed: AppContext[] = [];
    let lookedUp = 0;
    while (running) {
      await sleep(opts.invokePeriodMs);
      if (Date.now() - lookedUp > 1000) {
        lookedUp = Date.now();
        try {
          placed = (await contexts(world.tb)).filter(
            (c) => c.status?.phase === 'Placed' && c.status.referenceURI,
          );
        } catch {
          // the apiserver is down: the client keeps the targets it knows
        }
      }
      if (placed.length === 0) continue;
      const ctx = pick(rng, placed);
      const host = ctx.status!.host!;
      const key = `${ctx.metadata.name}|${ctx.status!.referenceURI}`;
      let inv = invokers.get(key);
      if (!inv) {
        for (const [k, old] of invokers)
          if (k.startsWith(`${ctx.metadata.name}|`)) {
            old.close();
            invokers.delete(k);
          }
        inv = secureInvoker(world.tb, kme, ctx);
        invokers.set(key, inv);
      }
      const a = between(rng, 0, 1000);
      const b = between(rng, 0, 1000);
      const t0 = Date.now();
      try {
        const out = await inv.invokeTimed({ a, b, note: plaintext });
        const result = out.result as { app?: string; sum?: number; echo?: string; at?: string };
        latencies.push({ t: t0, what: 'invoke', ms: Date.now() - t0 });
        const wrong = judge(result, {
          app: ctx.spec.appName,
          sum: a + b,
          echo: plaintext,
          at: whiskOf(host),
        });
        history.push({
          t: Date.now(),
          type: 'invoke',
          contextId: ctx.metadata.name,
          host,
          outcome: wrong ? 'wrong' : 'correct',
          ...(wrong ? { detail: wrong } : {}),
          key: { id: out.keyId, seq: out.seq, start: t0, invocationsPerKey: inv.invocationsPerKey },
        });
      } catch (err) {
        // the client saw the failure and retries with a fresh invoker (and key) next time
        inv.close();
        invokers.delete(key);
        if (!(err instanceof InvocationRefused || err instanceof ApplicationError)) {
          kme.close();
          kme = recording(clientKme(world.tb), keys);
        }
        history.push({
          t: Date.now(),
          type: 'invoke',
          contextId: ctx.metadata.name,
          host,
          outcome: 'error',
          detail: (err as Error).message.slice(0, 200),
        });
      }
    }
    for (const inv of invokers.values()) inv.close();
    kme.close();
  }

  const loops = [...Array.from({ length: opts.devices }, (_, i) => device(i)), client()];
  return {
    history,
    plaintext,
    keys,
    tokens,
    latencies,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
