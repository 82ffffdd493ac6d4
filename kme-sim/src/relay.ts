// Moving keys between KMEs hop by hop over QKD links. On the first hop the keys *are* the link's stream bytes
// (nothing but offsets crosses the channel). A trusted node that forwards keys encrypts them with a one-time
// pad of the next link's stream bytes, so every hop consumes as many key bits as it carries.
import type { Forward, KmeChannel, RouteStock } from './kme-channel.ts';
import type { Link } from './link.ts';
import type { KeyPool } from './pool.ts';
import { KmeError, unavailable } from './qkd014/errors.ts';
import { xor } from './stream.ts';

export interface RelayContext {
  kmeId: string;
  /** This KME's link ends, by the KME at the other end. */
  links: Map<string, Link>;
  pool: KeyPool;
  channel: KmeChannel;
  peerUrl(kmeId: string): string;
}

export interface Shipment {
  /** From this KME (route[0]) to the slaves' KME (last). */
  route: string[];
  keyIds: string[];
  sizeBits: number;
  master: string;
  slaves: string[];
  /** Keys already fixed (relay hops, further destinations of a multicast); else taken from the first hop. */
  keys?: Buffer;
}

function linkTo(ctx: RelayContext, kmeId: string): Link {
  const link = ctx.links.get(kmeId);
  if (!link)
    throw new KmeError(503, `KME ${ctx.kmeId} has no QKD link to KME ${kmeId}`, { retryAfterSeconds: 60 });
  return link;
}

function debit(link: Link, bits: number): void {
  if (!link.active) {
    throw unavailable(`QKD link ${link.id} is PENDING: KME ${link.remoteKme} has not answered yet`, 5);
  }
  if (!link.tryDebit(bits)) {
    throw unavailable(
      `not enough key material on QKD link ${link.id} (${link.localKme}–${link.remoteKme}); try again later`,
      link.retryAfterSeconds(bits),
    );
  }
}

/** Sends keys one hop along `s.route` and returns them (concatenated, sizeBits/8 bytes each). */
export async function ship(ctx: RelayContext, s: Shipment): Promise<Buffer> {
  const next = s.route[1] as string;
  const link = linkTo(ctx, next);
  const bytes = (s.keyIds.length * s.sizeBits) / 8;
  debit(link, bytes * 8);
  const offset = link.allocate(bytes);
  const pad = link.outgoing(offset, bytes);
  const message: Forward = {
    linkId: link.id,
    offset,
    sizeBits: s.sizeBits,
    keyIds: s.keyIds,
    master: s.master,
    slaves: s.slaves,
    route: s.route,
  };
  if (s.keys) message.cipher = xor(s.keys, pad).toString('base64');
  try {
    await ctx.channel.forward(ctx.peerUrl(next), message);
  } catch (err) {
    link.credit(bytes * 8);
    throw err;
  }
  return s.keys ?? pad;
}

/** Handles keys arriving from the previous hop: keep them for the slaves here, or relay them onwards. */
export async function receive(ctx: RelayContext, fromKme: string, m: Forward): Promise<void> {
  const at = m.route.indexOf(ctx.kmeId);
  if (at < 1 || m.route[at - 1] !== fromKme) {
    throw new KmeError(
      400,
      `route ${m.route.join('>')} does not lead from KME ${fromKme} to KME ${ctx.kmeId}`,
    );
  }
  const link = linkTo(ctx, fromKme);
  if (link.id !== m.linkId)
    throw new KmeError(400, `link ${m.linkId} does not join ${fromKme} and ${ctx.kmeId}`);
  if (m.sizeBits % 8 !== 0) throw new KmeError(400, `sizeBits ${m.sizeBits} is not a whole number of bytes`);
  const bytes = (m.keyIds.length * m.sizeBits) / 8;
  link.activate();
  debit(link, bytes * 8);
  try {
    const pad = link.incoming(m.offset, bytes);
    const cipher = m.cipher === undefined ? undefined : Buffer.from(m.cipher, 'base64');
    if (cipher && cipher.length !== bytes)
      throw new KmeError(400, `cipher has ${cipher.length} bytes, not ${bytes}`);
    const keys = cipher ? xor(cipher, pad) : pad;
    if (at === m.route.length - 1) {
      ctx.pool.add(m.keyIds, split(keys, m.sizeBits / 8), m.master, m.slaves);
      return;
    }
    await ship(ctx, { ...m, route: m.route.slice(at), keys });
  } catch (err) {
    link.credit(bytes * 8);
    throw err;
  }
}

/** Withdraws keys delivered to the end of `route` (a multicast that failed at another destination). */
export async function withdraw(ctx: RelayContext, route: string[], keyIds: string[]): Promise<void> {
  const at = route.indexOf(ctx.kmeId);
  if (at === route.length - 1) return ctx.pool.void(keyIds);
  const next = route[at + 1];
  if (at < 0 || next === undefined)
    throw new KmeError(400, `KME ${ctx.kmeId} is not on route ${route.join('>')}`);
  await ctx.channel.void(ctx.peerUrl(next), { keyIds, route });
}

/** Stored bits, capacity and secret key rate of the bottleneck links from this KME to the end of `route`. */
export async function routeStock(ctx: RelayContext, route: string[]): Promise<RouteStock> {
  const at = route.indexOf(ctx.kmeId);
  const next = route[at + 1];
  if (at < 0 || next === undefined)
    throw new KmeError(400, `KME ${ctx.kmeId} is not on route ${route.join('>')}`);
  const link = linkTo(ctx, next);
  const here = {
    storedBits: link.active ? link.storedBits() : 0,
    capacityBits: link.capacityBits,
    skr: link.skr(),
  };
  if (at + 1 === route.length - 1) return here;
  const rest = await ctx.channel.routeStock(ctx.peerUrl(next), { route });
  return {
    storedBits: Math.min(here.storedBits, rest.storedBits),
    capacityBits: Math.min(here.capacityBits, rest.capacityBits),
    skr: Math.min(here.skr, rest.skr),
  };
}

export function split(keys: Buffer, bytesEach: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < keys.length; i += bytesEach) out.push(keys.subarray(i, i + bytesEach));
  return out;
}
