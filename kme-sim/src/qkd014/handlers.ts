// The three QKD 014 methods (clause 5): Get status, Get key (enc_keys), Get key with key IDs (dec_keys).
// `caller` is the authenticated SAE ID; `pathSae` the percent-decoded SAE ID from the URL.
import { randomBytes, randomUUID } from 'node:crypto';
import type { KmeContext } from '../context.ts';
import type { RouteStock } from '../kme-channel.ts';
import { routeStock, ship, split, withdraw } from '../relay.ts';
import { badRequest, MESSAGES, quotaExceeded, unauthorised, unavailable } from './errors.ts';
import { parseKeyIds, parseKeyRequest, type RawRequest } from './requests.ts';
import type { Extension, KeyContainer, KeyRequest, Status } from './schemas.ts';

const ROUTE_TYPE = 'mecqkd_route_type';

function knownPeer(ctx: KmeContext, caller: string, other: string, role: 'slave' | 'master'): string {
  if (other.trim().length === 0) throw badRequest(`${role}_SAE_ID must not be blank`);
  if (other === caller) throw badRequest(`master and slave SAE IDs must differ (both are ${caller})`);
  const kme = ctx.topology.kmeOfSae(other);
  if (!kme) throw badRequest(`unknown ${role} SAE ${other}`);
  return kme;
}

function routeTo(ctx: KmeContext, kmeId: string): string[] {
  const route = ctx.topology.route(ctx.kmeId, kmeId);
  if (!route) throw unavailable(`no QKD path from KME ${ctx.kmeId} to KME ${kmeId}`, 60);
  return route;
}

/** Key stock between this KME and `targetKme` (its own random source when they are the same). */
async function pairStock(ctx: KmeContext, targetKme: string): Promise<RouteStock> {
  if (targetKme !== ctx.kmeId) return routeStock(ctx, routeTo(ctx, targetKme));
  const bits = ctx.cfg.localCapacityBits;
  return { storedBits: bits, capacityBits: bits, skr: 0 };
}

export async function getStatus(ctx: KmeContext, caller: string, slave: string): Promise<Status> {
  const targetKme = knownPeer(ctx, caller, slave, 'slave');
  const { keySize } = ctx.cfg;
  const stock = await pairStock(ctx, targetKme);
  const maxKeyCount = Math.floor(stock.capacityBits / keySize);
  return {
    source_KME_ID: ctx.kmeId,
    target_KME_ID: targetKme,
    master_SAE_ID: caller,
    slave_SAE_ID: slave,
    key_size: keySize,
    stored_key_count: Math.min(maxKeyCount, Math.floor(stock.storedBits / keySize)),
    max_key_count: maxKeyCount,
    max_key_per_request: ctx.cfg.maxKeyPerRequest,
    max_key_size: ctx.cfg.maxKeySize,
    min_key_size: ctx.cfg.minKeySize,
    max_SAE_ID_count: ctx.cfg.maxSaeIdCount,
  };
}

function checkLimits(ctx: KmeContext, number: number, size: number): void {
  const c = ctx.cfg;
  if (number > c.maxKeyPerRequest)
    throw badRequest(`number exceeds max_key_per_request (${c.maxKeyPerRequest})`);
  if (size % 8 !== 0) throw badRequest(MESSAGES.sizeMultipleOf8);
  if (size < c.minKeySize || size > c.maxKeySize) {
    throw badRequest(
      `size must be between min_key_size (${c.minKeySize}) and max_key_size (${c.maxKeySize})`,
    );
  }
}

function additionalSlaves(
  ctx: KmeContext,
  caller: string,
  slave: string,
  ids: string[] | undefined,
): string[] {
  if (ids === undefined) return [];
  const max = ctx.cfg.maxSaeIdCount;
  if (ids.length === 0) throw badRequest('additional_slave_SAE_IDs must not be empty when given');
  if (ids.length > max) throw badRequest(`additional_slave_SAE_IDs exceeds max_SAE_ID_count (${max})`);
  if (new Set(ids).size !== ids.length) throw badRequest('additional_slave_SAE_IDs contains duplicates');
  for (const id of ids) {
    if (id.trim().length === 0) throw badRequest('additional_slave_SAE_IDs contains a blank SAE ID');
    if (id === slave) throw badRequest(`additional_slave_SAE_IDs repeats the slave SAE ${slave}`);
    knownPeer(ctx, caller, id, 'slave');
  }
  return ids;
}

/** Supported mandatory extension: `mecqkd_route_type` = "direct" (no relay) or "indirect" (relay allowed). */
function routeType(extensions: Extension[] | undefined): 'direct' | 'indirect' {
  const entries = (extensions ?? []).flatMap((e) => Object.entries(e));
  const unsupported = entries.filter(([name]) => name !== ROUTE_TYPE);
  if (unsupported.length > 0) {
    throw badRequest(
      MESSAGES.extensionUnsupported,
      unsupported.map(([name]) => ({ extension_mandatory_unsupported: `${name} is not supported` })),
    );
  }
  const values = new Set(entries.map(([, v]) => v));
  if (values.size > 1 || [...values].some((v) => v !== 'direct' && v !== 'indirect')) {
    throw badRequest(MESSAGES.extensionUnmet);
  }
  return values.has('direct') ? 'direct' : 'indirect';
}

const REFUSAL_LOG_MS = 60_000;

/**
 * Takes the request's key bits from the master's quota, before any key leaves a store; past it the
 * request is refused whole. Multicast costs its bits once: each link still carries them once.
 */
function chargeQuota(ctx: KmeContext, caller: string, bits: number): () => void {
  const c = ctx.quotas.charge(caller, bits);
  if (c.ok) return c.refund;
  const { maxBandwidth, burstBits } = c.qos;
  if ('tooLarge' in c)
    throw badRequest(
      `the request's ${bits} key bits exceed the burst of SAE ${caller}'s key quota (app_qos max_bandwidth ${maxBandwidth} b/s, burst ${burstBits} bits): ask for fewer keys at once`,
    );
  ctx.metrics.quotaRefused(caller);
  const last = ctx.quotaRefusalLogged.get(caller) ?? Number.NEGATIVE_INFINITY;
  if (Date.now() - last >= REFUSAL_LOG_MS) {
    ctx.quotaRefusalLogged.set(caller, Date.now());
    ctx.log.warn('an SAE takes key faster than its quota', {
      saeId: caller,
      maxBandwidth,
      burstBits,
      retryAfterMs: c.retryAfterMs,
    });
  }
  throw quotaExceeded(caller, c.qos, c.retryAfterMs);
}

export async function getKey(
  ctx: KmeContext,
  caller: string,
  slave: string,
  raw: RawRequest,
): Promise<KeyContainer> {
  knownPeer(ctx, caller, slave, 'slave');
  const req: KeyRequest = parseKeyRequest(raw);
  const number = req.number ?? 1;
  const size = req.size ?? ctx.cfg.keySize;
  checkLimits(ctx, number, size);
  const slaves = [slave, ...additionalSlaves(ctx, caller, slave, req.additional_slave_SAE_IDs)];
  const direct = routeType(req.extension_mandatory) === 'direct';

  const byKme = new Map<string, string[]>();
  for (const s of slaves) {
    const kme = ctx.topology.kmeOfSae(s) as string;
    byKme.set(kme, [...(byKme.get(kme) ?? []), s]);
  }
  const local = byKme.get(ctx.kmeId) ?? [];
  byKme.delete(ctx.kmeId);
  const remote = [...byKme].map(([kme, saes]) => ({ route: routeTo(ctx, kme), saes }));
  if (direct && remote.some((r) => r.route.length > 2)) throw badRequest(MESSAGES.extensionUnmet);

  const refund = chargeQuota(ctx, caller, number * size);
  const keyIds = Array.from({ length: number }, () => randomUUID());
  let keys: Buffer | undefined;
  const shipped: string[][] = [];
  try {
    for (const r of remote) {
      keys = await ship(ctx, {
        route: r.route,
        keyIds,
        sizeBits: size,
        master: caller,
        slaves: r.saes,
        keys,
      });
      shipped.push(r.route);
    }
  } catch (err) {
    // Keys already handed to other destinations must not stay claimable when the master gets an error.
    await Promise.allSettled(shipped.map((route) => withdraw(ctx, route, keyIds)));
    refund();
    throw err;
  }
  // Intra-KME keys: the KME's own random source (master and slave in the same secure site).
  keys ??= randomBytes((number * size) / 8);
  const parts = split(keys, size / 8);
  if (local.length > 0) ctx.pool.add(keyIds, parts, caller, local);
  for (const s of slaves) ctx.metrics.delivered('enc_keys', caller, s, number);
  return { keys: keyIds.map((id, i) => ({ key_ID: id, key: (parts[i] as Buffer).toString('base64') })) };
}

export function getKeyWithIds(
  ctx: KmeContext,
  caller: string,
  master: string,
  raw: RawRequest,
): KeyContainer {
  if (master.trim().length === 0) throw badRequest('master_SAE_ID must not be blank');
  const ids = parseKeyIds(raw);
  if (ids.length > ctx.cfg.maxKeyPerRequest) {
    throw badRequest(`key_IDs exceeds max_key_per_request (${ctx.cfg.maxKeyPerRequest})`);
  }
  const result = ctx.pool.take(caller, master, ids);
  if (!result.ok) {
    if (result.reason === 'unauthorised') {
      throw unauthorised(`SAE ${caller} is not an authorised slave of one or more of the keys`);
    }
    throw badRequest(MESSAGES.keysNotFound);
  }
  ctx.metrics.delivered('dec_keys', master, caller, ids.length);
  return { keys: ids.map((id, i) => ({ key_ID: id, key: (result.keys[i] as Buffer).toString('base64') })) };
}
