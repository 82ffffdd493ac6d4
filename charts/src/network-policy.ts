// Kubernetes NetworkPolicy (networking.k8s.io/v1) semantics as one pure function: may this TCP
// connection between two endpoints of a cluster be made? The one-node lab cluster's bridge CNI does not
// enforce NetworkPolicies, so the cluster test records the connections the system really makes and
// asks this function whether an enforcing network plugin would have let each of them through.
import { z } from 'zod';

const labels = z.record(z.string(), z.string()).default({});
const labelSelector = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z.object({
        key: z.string(),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});
type LabelSelector = z.infer<typeof labelSelector>;
const peer = z.object({
  podSelector: labelSelector.optional(),
  namespaceSelector: labelSelector.optional(),
  ipBlock: z.object({ cidr: z.string(), except: z.array(z.string()).optional() }).optional(),
});
const port = z.object({
  protocol: z.string().default('TCP'),
  port: z.union([z.number().int(), z.string()]).optional(),
  endPort: z.number().int().optional(),
});
const ingressRule = z.object({ from: z.array(peer).optional(), ports: z.array(port).optional() });
const egressRule = z.object({ to: z.array(peer).optional(), ports: z.array(port).optional() });

export const networkPolicySchema = z.object({
  metadata: z.object({ name: z.string(), namespace: z.string() }),
  spec: z.object({
    podSelector: labelSelector,
    policyTypes: z.array(z.enum(['Ingress', 'Egress'])).optional(),
    ingress: z.array(ingressRule).optional(),
    egress: z.array(egressRule).optional(),
  }),
});
export type NetworkPolicy = z.infer<typeof networkPolicySchema>;

export const podSchema = z.object({
  metadata: z.object({ name: z.string(), namespace: z.string(), labels }),
  spec: z.object({
    hostNetwork: z.boolean().optional(),
    containers: z.array(
      z.object({
        ports: z
          .array(
            z.object({
              name: z.string().optional(),
              containerPort: z.number().int(),
              protocol: z.string().optional(),
            }),
          )
          .optional(),
      }),
    ),
  }),
  status: z.object({
    podIP: z.string().optional(),
    podIPs: z.array(z.object({ ip: z.string() })).optional(),
  }),
});
export type Pod = z.infer<typeof podSchema>;

export const namespaceSchema = z.object({ metadata: z.object({ name: z.string(), labels }) });
export type Namespace = z.infer<typeof namespaceSchema>;

/** What the cluster holds that decides a connection's fate. */
export interface PolicyWorld {
  policies: NetworkPolicy[];
  pods: Pod[];
  namespaces: Namespace[];
  /** The node's own addresses: traffic to and from the node a pod runs on is always allowed. */
  nodeIps: string[];
}

/** A TCP connection as the server saw it (after any Service DNAT). */
export interface Connection {
  clientIp: string;
  serverIp: string;
  serverPort: number;
}

export type Verdict = { allowed: true; why: string } | { allowed: false; why: string };

export function selects(selector: LabelSelector, l: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const inValues = has && (e.values ?? []).includes(l[e.key] as string);
    const ok = { In: inValues, NotIn: !inValues, Exists: has, DoesNotExist: !has }[e.operator];
    if (!ok) return false;
  }
  return true;
}

function ipv4(ip: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  return m ? m.slice(1).reduce((n, o) => n * 256 + Number(o), 0) : undefined;
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  const a = ipv4(ip);
  const b = ipv4(base);
  if (a === undefined || b === undefined) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(a / size) === Math.floor(b / size);
}

const podIps = (p: Pod) => [p.status.podIP, ...(p.status.podIPs ?? []).map((x) => x.ip)].filter(Boolean);

/** Whether `ip` is `p`'s; host-network pods share the node's and are not policy endpoints. */
export const holdsIp = (p: Pod, ip: string): boolean => !p.spec.hostNetwork && podIps(p).includes(ip);

/** The pod behind an address. */
function podAt(world: PolicyWorld, ip: string): Pod | undefined {
  return world.pods.find((p) => holdsIp(p, ip));
}

function peerMatches(
  world: PolicyWorld,
  policyNs: string,
  p: z.infer<typeof peer>,
  ip: string,
  pod: Pod | undefined,
): boolean {
  if (p.ipBlock) return inCidr(ip, p.ipBlock.cidr) && !(p.ipBlock.except ?? []).some((c) => inCidr(ip, c));
  if (!pod) return false;
  if (p.namespaceSelector) {
    const ns = world.namespaces.find((n) => n.metadata.name === pod.metadata.namespace);
    if (!ns || !selects(p.namespaceSelector, ns.metadata.labels)) return false;
  } else if (pod.metadata.namespace !== policyNs) return false;
  return !p.podSelector || selects(p.podSelector, pod.metadata.labels);
}

/** A rule's port matches the server's port; a named port is looked up on the server pod. */
function portMatches(ports: z.infer<typeof port>[] | undefined, serverPort: number, server: Pod | undefined) {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if (p.protocol !== 'TCP') return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'number') return serverPort >= p.port && serverPort <= (p.endPort ?? p.port);
    return (server?.spec.containers ?? []).some((c) =>
      (c.ports ?? []).some((cp) => cp.name === p.port && cp.containerPort === serverPort),
    );
  });
}

const hasType = (np: NetworkPolicy, t: 'Ingress' | 'Egress') =>
  np.spec.policyTypes ? np.spec.policyTypes.includes(t) : t === 'Ingress' || np.spec.egress !== undefined;

const policiesFor = (world: PolicyWorld, pod: Pod, t: 'Ingress' | 'Egress') =>
  world.policies.filter(
    (np) =>
      np.metadata.namespace === pod.metadata.namespace &&
      hasType(np, t) &&
      selects(np.spec.podSelector, pod.metadata.labels),
  );

const name = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;

/** The connection passes the client's egress and the server's ingress policies. */
export function verdict(world: PolicyWorld, c: Connection): Verdict {
  const client = podAt(world, c.clientIp);
  const server = podAt(world, c.serverIp);
  const nodeEnd = world.nodeIps.includes(c.clientIp) || world.nodeIps.includes(c.serverIp);
  if (nodeEnd) return { allowed: true, why: 'one end is the node itself' };
  if (client && server && client === server) return { allowed: true, why: 'a pod reaching itself' };
  // One direction: the policies isolating `pod` that way, and whether a rule of one lets `peer` by.
  const passes = (pod: Pod, t: 'Ingress' | 'Egress', peerIp: string, peer: Pod | undefined) => {
    const isolating = policiesFor(world, pod, t);
    const ok =
      isolating.length === 0 ||
      isolating.some((np) =>
        (t === 'Ingress'
          ? (np.spec.ingress ?? []).map((r) => ({ ports: r.ports, peers: r.from }))
          : (np.spec.egress ?? []).map((r) => ({ ports: r.ports, peers: r.to }))
        ).some(
          (r) =>
            portMatches(r.ports, c.serverPort, server) &&
            (!r.peers ||
              r.peers.length === 0 ||
              r.peers.some((p) => peerMatches(world, np.metadata.namespace, p, peerIp, peer))),
        ),
      );
    return { ok, names: isolating.map((np) => np.metadata.name).join(', ') };
  };
  if (client) {
    const e = passes(client, 'Egress', c.serverIp, server);
    if (!e.ok)
      return {
        allowed: false,
        why: `no egress rule of ${e.names} lets ${name(client)} reach ${c.serverIp}:${c.serverPort}`,
      };
  }
  if (server) {
    const i = passes(server, 'Ingress', c.clientIp, client);
    if (!i.ok)
      return {
        allowed: false,
        why: `no ingress rule of ${i.names} lets ${client ? name(client) : c.clientIp} reach ${name(server)} on port ${c.serverPort}`,
      };
  }
  return {
    allowed: true,
    why: client || server ? 'every policy on its way allows it' : 'no pod at either end',
  };
}
