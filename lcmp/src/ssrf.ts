// callbackReference is a URL a device app chose and the LCMP will POST to: an SSRF vector. A URL
// passes when it is http(s) without credentials and every address its host resolves to is allowed:
// inside the allow-list when one is configured, else outside loopback, link-local, unspecified and
// multicast ranges and the extra denied CIDRs. The cluster API endpoints are refused even when
// allow-listed. The connection is then pinned to the address that was checked (no DNS rebinding).
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export interface Endpoint {
  address: string;
  /** Undefined: every port of the address. */
  port?: number;
}

export interface SsrfPolicyOptions {
  /** CIDRs; when non-empty a destination must be in one of them. */
  allow: string[];
  /** CIDRs refused in addition to the built-in internal ranges. */
  deny: string[];
  /** Endpoints refused whatever the allow-list says (the apiserver's). */
  protectedEndpoints: Endpoint[];
}

export interface CheckedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

export class RefusedTarget extends Error {}

const INTERNAL: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['255.255.255.255', 32, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

function addCidr(list: BlockList, cidr: string): void {
  const [net, bits] = cidr.split('/');
  const family = isIP(net ?? '');
  if (!family) throw new Error(`not a CIDR: ${cidr}`);
  const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128))
    throw new Error(`not a CIDR: ${cidr}`);
  list.addSubnet(net!, prefix, family === 4 ? 'ipv4' : 'ipv6');
}

/** ::ffff:127.0.0.1 is 127.0.0.1: check mapped IPv4 addresses as IPv4. */
function normalise(address: string): { address: string; family: 4 | 6 } {
  const mapped = address.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i);
  if (mapped) return { address: mapped[1]!, family: 4 };
  // the WHATWG URL parser writes [::ffff:127.0.0.1] as [::ffff:7f00:1]
  const hex = address.match(/^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i);
  if (hex) {
    const [hi, lo] = [Number.parseInt(hex[1]!, 16), Number.parseInt(hex[2]!, 16)];
    return { address: [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.'), family: 4 };
  }
  return { address, family: isIP(address) === 6 ? 6 : 4 };
}

export type Resolve = (host: string) => Promise<{ address: string; family: number }[]>;

const systemResolve: Resolve = (host) => lookup(host, { all: true, verbatim: true });

export class SsrfPolicy {
  private readonly allow?: BlockList;
  private readonly deny = new BlockList();
  private readonly protectedEndpoints: Endpoint[];

  constructor(
    opts: SsrfPolicyOptions,
    private readonly resolve: Resolve = systemResolve,
  ) {
    if (opts.allow.length) {
      this.allow = new BlockList();
      for (const c of opts.allow) addCidr(this.allow, c);
    }
    for (const [net, bits, type] of INTERNAL) this.deny.addSubnet(net, bits, type);
    for (const c of opts.deny) addCidr(this.deny, c);
    this.protectedEndpoints = opts.protectedEndpoints.map((e) => ({
      ...e,
      address: normalise(e.address).address,
    }));
  }

  private refusal(address: string, family: 4 | 6, port: number): string | undefined {
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (
      this.protectedEndpoints.some((e) => e.address === address && (e.port === undefined || e.port === port))
    )
      return 'is the cluster API';
    if (this.allow) return this.allow.check(address, type) ? undefined : 'is not in the callback allow-list';
    return this.deny.check(address, type) ? 'is an internal address' : undefined;
  }

  /** The URL with the address to connect to; throws RefusedTarget saying why not. */
  async check(raw: string): Promise<CheckedTarget> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new RefusedTarget('is not a URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new RefusedTarget('must be http or https');
    if (url.username || url.password) throw new RefusedTarget('must not carry credentials');
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    let addresses: { address: string; family: number }[];
    if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
    else {
      try {
        addresses = await this.resolve(host);
      } catch {
        throw new RefusedTarget(`host ${host} does not resolve`);
      }
    }
    if (addresses.length === 0) throw new RefusedTarget(`host ${host} does not resolve`);
    // every address must pass: a name with one good and one internal address is refused
    const checked = addresses.map((a) => normalise(a.address));
    for (const a of checked) {
      const why = this.refusal(a.address, a.family, port);
      if (why) throw new RefusedTarget(`resolves to ${a.address}, which ${why}`);
    }
    return { url, ...checked[0]! };
  }
}
