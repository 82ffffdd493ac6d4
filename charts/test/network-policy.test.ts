import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { renderChart } from '../src/helm.ts';
import {
  inCidr,
  type NetworkPolicy,
  networkPolicySchema,
  type Pod,
  type PolicyWorld,
  podSchema,
  selects,
  verdict,
} from '../src/network-policy.ts';
import { parseConntrack, podsAround } from './cluster/connections.ts';

const pod = (
  ns: string,
  name: string,
  ip: string,
  labels: Record<string, string>,
  ports: [string, number][] = [],
): Pod =>
  podSchema.parse({
    metadata: { name, namespace: ns, labels },
    spec: { containers: [{ ports: ports.map(([n, p]) => ({ name: n, containerPort: p })) }] },
    status: { podIP: ip },
  });
const policy = (ns: string, spec: unknown): NetworkPolicy =>
  networkPolicySchema.parse({ metadata: { name: `np-${ns}`, namespace: ns }, spec });

describe('NetworkPolicy semantics', () => {
  const db = pod('a', 'db', '10.0.0.2', { role: 'db' }, [['sql', 5432]]);
  const web = pod('a', 'web', '10.0.0.3', { role: 'web' });
  const other = pod('b', 'other', '10.0.0.4', { role: 'web' });
  const world = (policies: NetworkPolicy[]): PolicyWorld => ({
    policies,
    pods: [db, web, other],
    namespaces: [
      { metadata: { name: 'a', labels: { team: 'x' } } },
      { metadata: { name: 'b', labels: { team: 'y' } } },
    ],
    nodeIps: ['10.0.0.1'],
  });
  const to = (clientIp: string, serverIp: string, serverPort: number) => ({ clientIp, serverIp, serverPort });

  it('label selectors: matchLabels and every matchExpressions operator', () => {
    const l = { a: '1', b: '2' };
    expect(selects({}, l)).to.equal(true);
    expect(selects({ matchLabels: { a: '1' } }, l)).to.equal(true);
    expect(selects({ matchLabels: { a: '2' } }, l)).to.equal(false);
    expect(selects({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '3'] }] }, l)).to.equal(
      true,
    );
    expect(selects({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, l)).to.equal(
      false,
    );
    expect(selects({ matchExpressions: [{ key: 'c', operator: 'NotIn', values: ['1'] }] }, l)).to.equal(true);
    expect(selects({ matchExpressions: [{ key: 'b', operator: 'Exists' }] }, l)).to.equal(true);
    expect(selects({ matchExpressions: [{ key: 'b', operator: 'DoesNotExist' }] }, l)).to.equal(false);
  });

  it('CIDRs', () => {
    expect(inCidr('10.1.2.3', '10.1.0.0/16')).to.equal(true);
    expect(inCidr('10.2.2.3', '10.1.0.0/16')).to.equal(false);
    expect(inCidr('10.1.2.3', '10.1.2.3/32')).to.equal(true);
    expect(inCidr('10.1.2.3', '0.0.0.0/0')).to.equal(true);
  });

  it('a pod no policy selects accepts anything; one an Ingress policy selects only what a rule allows', () => {
    expect(verdict(world([]), to(web.status.podIP as string, '10.0.0.2', 5432)).allowed).to.equal(true);
    const w = world([
      policy('a', {
        podSelector: { matchLabels: { role: 'db' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { role: 'web' } } }], ports: [{ port: 'sql' }] }],
      }),
    ]);
    expect(verdict(w, to('10.0.0.3', '10.0.0.2', 5432)).allowed, 'web → db:sql').to.equal(true);
    expect(verdict(w, to('10.0.0.3', '10.0.0.2', 5433)).allowed, 'another port').to.equal(false);
    // a podSelector alone means pods of the policy's own namespace
    const v = verdict(w, to('10.0.0.4', '10.0.0.2', 5432));
    expect(v.allowed, 'a role=web pod of another namespace').to.equal(false);
    expect(v.why).to.include('b/other').and.include('a/db');
    expect(verdict(w, to('10.0.0.1', '10.0.0.2', 9999)).allowed, 'the node').to.equal(true);
    expect(verdict(w, to('192.0.2.9', '10.0.0.2', 5432)).allowed, 'outside the cluster').to.equal(false);
  });

  it('namespaceSelector alone, with a podSelector, ipBlock with except, and port ranges', () => {
    const only = (peer: unknown, ports?: unknown) =>
      world([
        policy('a', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [peer], ports }] }),
      ]);
    const ns = only({ namespaceSelector: { matchLabels: { team: 'y' } } });
    expect(verdict(ns, to('10.0.0.4', '10.0.0.2', 1)).allowed).to.equal(true);
    expect(verdict(ns, to('10.0.0.3', '10.0.0.2', 1)).allowed).to.equal(false);
    const both = only({
      namespaceSelector: { matchLabels: { team: 'y' } },
      podSelector: { matchLabels: { role: 'x' } },
    });
    expect(verdict(both, to('10.0.0.4', '10.0.0.2', 1)).allowed).to.equal(false);
    const block = only({ ipBlock: { cidr: '192.0.2.0/24', except: ['192.0.2.128/25'] } });
    expect(verdict(block, to('192.0.2.9', '10.0.0.2', 1)).allowed).to.equal(true);
    expect(verdict(block, to('192.0.2.200', '10.0.0.2', 1)).allowed).to.equal(false);
    const range = only({ podSelector: {} }, [{ port: 5000, endPort: 5500 }]);
    expect(verdict(range, to('10.0.0.3', '10.0.0.2', 5432)).allowed).to.equal(true);
    expect(verdict(range, to('10.0.0.3', '10.0.0.2', 5501)).allowed).to.equal(false);
    const udp = only({ podSelector: {} }, [{ protocol: 'UDP', port: 5432 }]);
    expect(verdict(udp, to('10.0.0.3', '10.0.0.2', 5432)).allowed, 'a UDP rule opens no TCP port').to.equal(
      false,
    );
  });

  it('egress: a selected client reaches only what its rules name; an empty rule list isolates', () => {
    const w = world([
      policy('a', {
        podSelector: { matchLabels: { role: 'web' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: { matchLabels: { role: 'db' } } }] }],
      }),
    ]);
    expect(verdict(w, to('10.0.0.3', '10.0.0.2', 5432)).allowed).to.equal(true);
    expect(verdict(w, to('10.0.0.3', '10.0.0.4', 80)).allowed).to.equal(false);
    const deny = world([policy('a', { podSelector: {}, policyTypes: ['Ingress'] })]);
    expect(verdict(deny, to('10.0.0.3', '10.0.0.2', 5432)).allowed).to.equal(false);
    expect(verdict(deny, to('10.0.0.2', '10.0.0.2', 5432)).allowed, 'a pod reaching itself').to.equal(true);
  });

  it('conntrack lines: the client as it connected, the server as it answered (after Service DNAT)', () => {
    const text = [
      'tcp      6 86398 ESTABLISHED src=10.201.1.5 dst=10.96.0.12 sport=40112 dport=6379 src=10.201.1.9 dst=10.201.1.5 sport=6379 dport=40112 [ASSURED] mark=0 use=1',
      'tcp      6 117 TIME_WAIT src=10.201.1.1 dst=10.201.1.7 sport=52000 dport=8081 src=10.201.1.7 dst=10.201.1.1 sport=8081 dport=52000 [ASSURED] mark=0 use=1',
      'udp      17 29 src=10.201.1.5 dst=10.96.0.10 sport=5353 dport=53 src=10.201.1.3 dst=10.201.1.5 sport=53 dport=5353 mark=0 use=1',
      '',
    ].join('\n');
    expect(parseConntrack(text)).to.deep.equal([
      { clientIp: '10.201.1.5', serverIp: '10.201.1.9', serverPort: 6379 },
      { clientIp: '10.201.1.1', serverIp: '10.201.1.7', serverPort: 8081 },
    ]);
  });
  it('a connection is judged with the pods that held its addresses around the sample that saw it', () => {
    // sampled every few seconds: a pod can open a connection and be gone (a killed leader, a rolled
    // pod) before the sample that first sees it, or connect before its podIP is in its status
    const gone = pod('a', 'gone', '10.0.0.8', { role: 'web' });
    const late = pod('a', 'late', '10.0.0.9', { role: 'web' });
    const samples = [[db, gone], [db], [db, late]];
    const names = (pods: Pod[]) => pods.map((p) => p.metadata.name).sort();
    expect(names(podsAround(samples, 1, ['10.0.0.8', '10.0.0.2']))).to.deep.equal(['db', 'gone']);
    expect(names(podsAround(samples, 1, ['10.0.0.9', '10.0.0.2']))).to.deep.equal(['db', 'late']);
    const reused = pod('a', 'reused', '10.0.0.8', { role: 'db' });
    expect(
      names(podsAround([[gone], [reused]], 1, ['10.0.0.8'])),
      'the holder at the sample itself comes first',
    ).to.deep.equal(['reused']);
    expect(names(podsAround(samples, 0, ['10.0.0.7']))).to.deep.equal(['db', 'gone']);
  });
});

describe('the chart’s NetworkPolicies (lab profile, rendered by helm)', function () {
  this.timeout(120_000); // helm template under a loaded machine
  const NS = 'mec-lab';
  let world: PolicyWorld;
  const ipOf = (component: string) => {
    const p = world.pods.find((x) => x.metadata.labels['app.kubernetes.io/component'] === component);
    if (!p?.status.podIP) throw new Error(`no ${component} pod rendered`);
    return p.status.podIP;
  };
  const may = (from: string, component: string, port: number) =>
    verdict(world, { clientIp: ipOf(from), serverIp: ipOf(component), serverPort: port }).allowed;

  before(async () => {
    const docs = parseAllDocuments(await renderChart('lab', NS, ['lab.enabled=true']))
      .map((d) => d.toJS())
      .filter(Boolean);
    const policies = docs
      .filter((d) => d.kind === 'NetworkPolicy')
      .map((d) => networkPolicySchema.parse({ ...d, metadata: { ...d.metadata, namespace: NS } }));
    const pods = docs
      .filter((d) => ['Deployment', 'StatefulSet'].includes(d.kind))
      .map((d, i) =>
        podSchema.parse({
          metadata: { name: d.metadata.name, namespace: NS, labels: d.spec.template.metadata.labels },
          spec: d.spec.template.spec,
          status: { podIP: `10.201.9.${i + 10}` },
        }),
      );
    world = { policies, pods, namespaces: [{ metadata: { name: NS, labels: {} } }], nodeIps: ['10.201.9.1'] };
  });

  it('Redis takes connections from the operator and the host SAEs only', () => {
    expect(may('operator', 'redis', 6379)).to.equal(true);
    expect(may('host-sae', 'redis', 6379)).to.equal(true);
    for (const c of ['lcmp', 'whisk-sim', 'kme-sim']) expect(may(c, 'redis', 6379), c).to.equal(false);
  });

  it('a host SAE takes key requests only from its OpenWhisk (the action containers), metrics from anyone', () => {
    expect(may('whisk-sim', 'host-sae', 8443)).to.equal(true);
    for (const c of ['operator', 'lcmp', 'kme-sim']) expect(may(c, 'host-sae', 8443), c).to.equal(false);
    expect(may('operator', 'host-sae', 9443)).to.equal(true);
  });

  it('every pod refuses ports its role does not serve', () => {
    for (const [c, port] of [
      ['operator', 9999],
      ['lcmp', 9999],
      ['redis', 6380],
      ['kme-sim', 9999],
      ['whisk-sim', 9999],
      ['host-sae', 9999],
    ] as const)
      expect(may(c === 'lcmp' ? 'operator' : 'lcmp', c, port), `${c}:${port}`).to.equal(false);
  });
});
