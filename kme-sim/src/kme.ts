// Starting KMEs in this process: one context, one HTTPS listener (and optionally an ops listener) per KME,
// a handshake with each neighbour that activates the links, and expiry of unfetched keys.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { createLogger } from '@mecqkd/common/logger';
import type { Config } from './config.ts';
import type { KmeContext } from './context.ts';
import type { RouteStock } from './kme-channel.ts';
import { createKmeChannel } from './kme-channel.ts';
import { Link } from './link.ts';
import { createKmeMetrics, type PairStock } from './metrics.ts';
import { KeyPool } from './pool.ts';
import { SaeQuotas } from './quota.ts';
import { routeStock } from './relay.ts';
import { createKmeServer, createOpsServer } from './server.ts';
import { createTopology } from './topology.ts';

export interface RunningKme {
  id: string;
  url: string;
  opsUrl: string | undefined;
  close(): Promise<void>;
}

const HELLO_INTERVAL_MS = 250;
const SWEEP_INTERVAL_MS = 1000;

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on ${host}:${port}: ${err.message}`)));
    server.listen(port, host, () => resolve());
  });
}

function closeServer(server: Server & { closeAllConnections?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

/** Stock per (local master, remote slave) pair; one route lookup per target KME, unreachable ones left out. */
async function pairStocks(ctx: KmeContext): Promise<PairStock[]> {
  const targets = new Set(ctx.topology.saes().map((s) => ctx.topology.kmeOfSae(s) as string));
  targets.delete(ctx.kmeId);
  const stocks = new Map<string, RouteStock>();
  await Promise.all(
    [...targets].map(async (kme) => {
      const route = ctx.topology.route(ctx.kmeId, kme);
      if (route)
        await routeStock(ctx, route).then(
          (s) => stocks.set(kme, s),
          () => {},
        );
    }),
  );
  return ctx.topology.saesOf(ctx.kmeId).flatMap((master) =>
    ctx.topology.saes().flatMap((slave) => {
      const targetKme = ctx.topology.kmeOfSae(slave) as string;
      const stock = stocks.get(targetKme);
      return stock ? [{ master, slave, targetKme, ...stock }] : [];
    }),
  );
}

export async function startKme(config: Config, kmeId: string): Promise<RunningKme> {
  const topology = createTopology(config);
  const cfg = topology.kme(kmeId);
  if (!cfg)
    throw new Error(`KME ${kmeId} is not in the config (have ${config.kmes.map((k) => k.id).join(', ')})`);
  const tls = {
    cert: readFileSync(cfg.tls.cert),
    key: readFileSync(cfg.tls.key),
    ca: readFileSync(cfg.tls.ca),
  };
  const links = new Map(
    topology.linksOf(kmeId).map((l) => [l.kmes[0] === kmeId ? l.kmes[1] : l.kmes[0], new Link(l, kmeId)]),
  );
  const pool = new KeyPool(cfg.keyTtlSeconds * 1000);
  const channel = createKmeChannel({
    cert: tls.cert.toString(),
    key: tls.key.toString(),
    ca: tls.ca.toString(),
  });
  const log = createLogger('kme-sim').child({ kmeId });
  const ctx: KmeContext = {
    kmeId,
    cfg,
    topology,
    links,
    pool,
    channel,
    log,
    quotas: new SaeQuotas(cfg.saes.flatMap((s) => (s.appQos ? [[s.id, s.appQos] as const] : []))),
    quotaRefusalLogged: new Map(),
    metrics: createKmeMetrics(kmeId, {
      links: [...links.values()],
      keySize: cfg.keySize,
      reservedKeys: () => pool.size,
      pairStocks: () => pairStocks(ctx),
    }),
    peerUrl(id) {
      const peer = topology.kme(id);
      if (!peer) throw new Error(`unknown KME ${id}`);
      return `https://${peer.host}:${peer.port}`;
    },
  };

  const { server, destroyStreams } = createKmeServer(ctx, tls, async (link, change) => {
    link.adjust(change);
    await channel.adjust(ctx.peerUrl(link.remoteKme), link.id, change);
  });
  await listen(server, cfg.port, cfg.listenHost ?? cfg.host);
  const ops = cfg.opsPort === undefined ? undefined : createOpsServer(ctx);
  if (ops && cfg.opsPort !== undefined) await listen(ops, cfg.opsPort, cfg.opsHost);

  const timers: NodeJS.Timeout[] = [];
  for (const link of links.values()) {
    const hello = setInterval(() => {
      channel.hello(ctx.peerUrl(link.remoteKme), { linkId: link.id }).then(
        () => {
          link.activate();
          clearInterval(hello);
          log.info('QKD link active', { linkId: link.id, peerKmeId: link.remoteKme });
        },
        () => {}, // the peer is not up yet; the link stays PENDING
      );
    }, HELLO_INTERVAL_MS);
    timers.push(hello);
  }
  timers.push(setInterval(() => pool.sweep(), SWEEP_INTERVAL_MS));
  for (const t of timers) t.unref();

  const url = `https://${cfg.host}:${cfg.port}`;
  log.info('KME listening', { url, opsPort: cfg.opsPort, links: [...links.values()].map((l) => l.id) });
  return {
    id: kmeId,
    url,
    opsUrl: cfg.opsPort === undefined ? undefined : `http://127.0.0.1:${cfg.opsPort}`,
    async close() {
      for (const t of timers) clearInterval(t);
      channel.close();
      destroyStreams();
      await Promise.all([closeServer(server), ...(ops ? [closeServer(ops)] : [])]);
    },
  };
}

/** Starts the named KMEs of `config` (all when `ids` is empty). */
export async function startKmes(config: Config, ids: string[] = []): Promise<RunningKme[]> {
  const chosen = ids.length > 0 ? ids : config.kmes.map((k) => k.id);
  const started: RunningKme[] = [];
  try {
    for (const id of chosen) started.push(await startKme(config, id));
  } catch (err) {
    await Promise.all(started.map((k) => k.close()));
    throw err;
  }
  return started;
}
