// The chart on a real one-node cluster (run by charts/test/cluster/run.ts inside the node's network
// namespace, with the cluster's DNS): helm install of the lab profile, then a device app's whole life
// through the LCMP Service — list, create, placement on a whisk-sim pod, secure invocation, migration
// off an overloaded host with its AddressChange notification, delete — plus helm upgrade, operator
// failover and helm uninstall. The steps share one system, so they run in order.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '@mecqkd/common/process';
import { hashSecret } from '@mecqkd/lcmp/auth/secret-hash';
import { controlPlaneBinaries } from '@mecqkd/localenv/binaries';
import { createHttpClient, type HttpClient } from '@mecqkd/sdk/http';
import { type NotificationReceiver, startNotificationReceiver } from '@mecqkd/sdk/notification-receiver';
import { type OffloadSession, openOffloadSession } from '@mecqkd/sdk/offload-session';
import { expect } from 'chai';
import { connect, type WardLink } from '../../../examples/src/ward-client.ts';
import { CHART_DIR, helm } from '../../src/helm.ts';
import { namespaceSchema, networkPolicySchema, verdict } from '../../src/network-policy.ts';
import { type ConnectionRecorder, recordConnections } from './connections.ts';

const NODE_IP = process.env.MECQKD_CLUSTER_NODE_IP;
const NS = 'mec-lab';
const RELEASE = 'lab';
const FN = `${RELEASE}-mecqkd`;
const HOSTS = ['host-1', 'host-2'];
const EXAMPLES = join(CHART_DIR, '..', '..', 'examples');
const CLIENT = { clientId: 'cluster-test', secret: 'cluster-test-secret-0123456789abcdef' };
const DEVICES = ['tablet-1', 'tablet-2', 'tablet-3'];
const LCMP_URL = `http://${FN}-lcmp.${NS}.svc:8443`;

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout),
    );
    child.stdin?.end(input);
  });
}
const kubectl = (args: string[], input?: string) => run(controlPlaneBinaries().kubectl, args, input);
const inNs = (args: string[], input?: string) => kubectl(['-n', NS, ...args], input);
/** The LCMP's credentials namespace (the chart's default): client registrations go there. */
const CREDS_NS = `${NS}-lcmp-credentials`;
async function helmOk(args: string[]): Promise<string> {
  const r = await helm(args);
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}
const secretData = async (name: string, key: string) =>
  Buffer.from(
    await inNs(['get', 'secret', name, '-o', `jsonpath={.data.${key.replace(/\./g, '\\.')}}`]),
    'base64',
  ).toString();

interface Pod {
  metadata: { name: string; uid: string; labels: Record<string, string> };
  status: { conditions?: { type: string; status: string }[] };
}
const pods = async (selector: string): Promise<Pod[]> =>
  JSON.parse(await inNs(['get', 'pods', '-l', selector, '-o', 'json'])).items;
const contexts = async (): Promise<{ metadata: { name: string }; status?: { host?: string } }[]> =>
  JSON.parse(await inNs(['get', 'appcontexts', '-o', 'json'])).items;
const hostOf = (s: OffloadSession) => s.target().appInstanceId.split('/')[0] as string;

/** A cardio-risk patient; the model's own code computes the expected answer. */
const PATIENT = {
  sex: 'female',
  age: 61,
  totalCholesterol: 230,
  hdlCholesterol: 48,
  systolicBloodPressure: 142,
  bloodPressureTreated: true,
  smoker: false,
  diabetes: false,
};

/** The lab's values: local images only, quick operator rounds, callbacks to the node allowed. */
const VALUES = [
  ...['lab.enabled=true', 'lcmp.tokenEndpoint=true', 'images.pullPolicy=Never'].flatMap((v) => ['--set', v]),
  ...[
    `lcmp.args.callback-allow=${NODE_IP}/32`,
    'lcmp.args.notify-backoff=0.2',
    'lcmp.args.place-timeout=30',
    'operator.args.probe-period=2',
    'operator.args.telemetry-period=1',
    'operator.args.optimise-period=2',
    'operator.args.migration-cooldown=300',
  ].flatMap((v) => ['--set-string', v]),
];

/** The host's OpenWhisk (its whisk-sim), with the credentials the operator uses. */
async function whisk(http: HttpClient, host: string) {
  const auth = `Basic ${Buffer.from(await secretData(`${FN}-openwhisk-${host}`, 'auth')).toString('base64')}`;
  const base = `https://${FN}-whisk-${host}.${NS}.svc:3233/api/v1/namespaces/${host}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await http.fetch(`${base}${path}`, {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${base}${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
  return {
    actions: async (): Promise<string[]> =>
      ((await call('GET', '/actions?limit=200')) as { name: string; annotations?: { key: string }[] }[])
        .filter((a) => a.annotations?.some((x) => x.key === 'mecqkd.io/managed'))
        .map((a) => a.name),
    /** Another tenant's batch job fills the host's memory: 3 × 288 MB of 1024 for `ms`. */
    overload: async (ms: number) => {
      await call('PUT', '/actions/night-batch?overwrite=true', {
        exec: {
          kind: 'nodejs:20',
          code: 'function main(p) { return new Promise((r) => setTimeout(() => r({}), p.ms)); }',
        },
        limits: { memory: 288, timeout: 120_000 },
      });
      for (let i = 0; i < 3; i++) await call('POST', '/actions/night-batch?blocking=false', { ms });
    },
  };
}

describe('the chart on a real one-node cluster (lab profile)', function () {
  this.timeout(600_000);
  let dir: string;
  let ward: WardLink;
  let http: HttpClient;
  let receiver: NotificationReceiver;
  const sessions: OffloadSession[] = [];
  let connections: ConnectionRecorder;

  before(() => {
    if (!NODE_IP) throw new Error('run through make test-cluster (charts/test/cluster/run.ts): no node IP');
    dir = mkdtempSync(join(tmpdir(), 'mecqkd-cluster-test-'));
    connections = recordConnections(controlPlaneBinaries().kubectl);
  });
  after(async () => {
    await connections?.stop();
    for (const s of sessions) await s.close().catch(() => undefined);
    await receiver?.close();
    await ward?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async (app: string, device: string) => {
    const [entry] = await ward.mx2.listApps({ appName: [app] });
    if (!entry) throw new Error(`the LCMP offers no ${app}`);
    const { appName, appProvider, appDVersion } = entry.appInfo;
    const s = await openOffloadSession({
      mx2: ward.mx2,
      app: { appName, appProvider, appDVersion },
      associateDevAppId: device,
      kme: ward.kme,
      clientSaeId: ward.clientSaeId,
      receiver,
      http,
    });
    sessions.push(s);
    return s;
  };

  it('installs with helm --wait from local images only; every pod Ready, every MecHost Ready', async () => {
    await helmOk([
      'install',
      RELEASE,
      CHART_DIR,
      '-n',
      NS,
      '--create-namespace',
      ...VALUES,
      '--wait',
      '--timeout',
      '8m',
    ]);
    const all = await pods(`app.kubernetes.io/instance=${RELEASE}`);
    const byComponent: Record<string, number> = {};
    for (const p of all) {
      const c = p.metadata.labels['app.kubernetes.io/component'] as string;
      byComponent[c] = (byComponent[c] ?? 0) + 1;
      expect(p.status.conditions?.find((x) => x.type === 'Ready')?.status, p.metadata.name).to.equal('True');
    }
    expect(byComponent).to.deep.equal({
      operator: 2,
      lcmp: 2,
      redis: 1,
      'kme-sim': 3,
      'whisk-sim': 2,
      'host-sae': 2,
    });
    await inNs(['wait', '--for=condition=Ready', 'mechost', '--all', '--timeout=180s']);
  });

  it('lists the apps over Mx2 through the LCMP Service', async () => {
    await inNs(['apply', '-f', join(EXAMPLES, 'manifests', 'actions-configmap.yaml')]);
    await inNs(['apply', '-f', join(EXAMPLES, 'manifests', 'mecapp-cardio.yaml')]);
    await inNs(['apply', '-f', join(EXAMPLES, 'manifests', 'mecapp-echo.yaml')]);
    const registration = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `lcmp-client-${CLIENT.clientId}`, labels: { 'mecqkd.io/lcmp-client': 'true' } },
      type: 'Opaque',
      stringData: {
        clientId: CLIENT.clientId,
        secretHash: await hashSecret(CLIENT.secret),
        devAppIds: DEVICES.join(','),
        apps: '*',
        kmeId: 'KME_CLIENT',
        saeId: 'SAE_CLIENT',
      },
    };
    await kubectl(['apply', '-n', CREDS_NS, '-f', '-'], JSON.stringify(registration));
    const files: Record<string, string> = {};
    for (const key of ['ca.crt', 'tls.crt', 'tls.key']) {
      files[key] = join(dir, key);
      writeFileSync(files[key], await secretData(`${FN}-sae-client`, key), { mode: 0o600 });
    }
    http = createHttpClient({ ca: readFileSync(files['ca.crt'] as string) });
    ward = connect(
      {
        lcmpUrl: LCMP_URL,
        tokenUrl: `${LCMP_URL}/oauth2/token`,
        client: CLIENT,
        clientSae: {
          id: 'SAE_CLIENT',
          kmeUrl: `https://${FN}-kme-client.${NS}.svc:8443`,
          ca: files['ca.crt'] as string,
          cert: files['tls.crt'] as string,
          key: files['tls.key'] as string,
        },
      },
      http,
    );
    // the LCMP serves what its informer has seen: the MecApps arrive within moments
    let names: string[] = [];
    await waitUntil('both apps listed', async () => {
      names = (await ward.mx2.listApps()).map((a) => a.appInfo.appName).sort();
      return names.length === 2;
    });
    expect(names).to.deep.equal(['cardio-risk', 'echo']);
  });

  it('creates contexts, each placed on a whisk-sim pod that holds its action', async () => {
    // the LCMP pods call the device app back on the node's address
    receiver = await startNotificationReceiver({ host: NODE_IP as string });
    const echo = await open('echo', 'tablet-1');
    const cardio = await open('cardio-risk', 'tablet-2');
    for (const s of [echo, cardio]) {
      const host = hostOf(s);
      expect(HOSTS).to.include(host);
      expect(s.target().referenceURI).to.match(
        new RegExp(`^https://${FN}-whisk-${host}\\.${NS}\\.svc:3233/`),
      );
      const action = s.target().appInstanceId.split('/')[1] as string;
      expect(await (await whisk(http, host)).actions()).to.include(action);
      expect((await pods(`app.kubernetes.io/component=whisk-sim,mecqkd.io/host=${host}`)).length).to.equal(1);
    }
    const placed = await contexts();
    expect(placed.map((c) => c.status?.host).sort()).to.deep.equal([hostOf(echo), hostOf(cardio)].sort());
  });

  it('invokes securely: the results decrypted on the device are the actions’ own', async () => {
    const [echo, cardio] = sessions as [OffloadSession, OffloadSession];
    const args = { word: 'qkd', n: 42, nested: { ok: true } };
    expect((await echo.invoke(args)).result).to.deep.equal({ echo: args });
    const main = new Function(
      `${readFileSync(join(EXAMPLES, 'actions', 'cardio-risk.js'), 'utf8')}\nreturn main;`,
    )();
    expect((await cardio.invoke(PATIENT)).result).to.deep.equal(main(PATIENT));
  });

  it('migrates a context off an overloaded host and notifies the device app (AddressChange)', async () => {
    const echo = sessions[0] as OffloadSession;
    const from = hostOf(echo);
    const migrated = new Promise<string>((resolve) =>
      echo.on('migrated', ({ via }) => resolve(via as string)),
    );
    await (await whisk(http, from)).overload(90_000);
    await waitUntil(`the echo context off ${from}`, async () => hostOf(echo) !== from, {
      timeoutMs: 120_000,
    });
    expect(await migrated).to.equal('AddressChangeNotification');
    const out = await echo.invoke({ after: 'migration' });
    expect(out.result).to.deep.equal({ echo: { after: 'migration' } });
    expect(out.instance.appInstanceId.split('/')[0]).to.not.equal(from);
  });

  it('rolls with helm upgrade of a changed value and keeps every context', async () => {
    const before = (await pods('app.kubernetes.io/component=operator')).map((p) => p.metadata.uid);
    const kept = (await contexts()).map((c) => c.metadata.name).sort();
    await helmOk([
      'upgrade',
      RELEASE,
      CHART_DIR,
      '-n',
      NS,
      ...VALUES,
      '--set',
      'operator.logLevel=debug',
      '--wait',
      '--timeout',
      '8m',
    ]);
    // --wait waits for the new pods to be Ready, not for the old ones to finish terminating
    let after: string[] = [];
    await waitUntil(
      'two operator pods, none of them from before the upgrade',
      async () => {
        after = (await pods('app.kubernetes.io/component=operator')).map((p) => p.metadata.uid);
        return after.length === 2 && after.every((u) => !before.includes(u));
      },
      { timeoutMs: 120_000 },
    ).catch(() => undefined);
    expect(after).to.have.length(2);
    expect(after.filter((u) => before.includes(u))).to.deep.equal([]);
    expect((await contexts()).map((c) => c.metadata.name).sort()).to.deep.equal(kept);
    const [echo, cardio] = sessions as [OffloadSession, OffloadSession];
    expect((await echo.invoke({ after: 'upgrade' })).result).to.deep.equal({ echo: { after: 'upgrade' } });
    expect((await cardio.invoke(PATIENT)).result).to.have.property('tenYearRisk');
  });

  it('fails over to the other operator replica when the leader pod is killed', async () => {
    const lease = () => inNs(['get', 'lease', `${FN}-operator`, '-o', 'jsonpath={.spec.holderIdentity}']);
    // right after an upgrade the old leader has released the Lease and a new one may not hold it yet
    let leader = '';
    await waitUntil(
      'an operator replica holds the Lease',
      async () => {
        leader = await lease();
        return leader !== '';
      },
      { timeoutMs: 60_000 },
    ).catch(() => undefined);
    const leaderPod = (await pods('app.kubernetes.io/component=operator')).find((p) =>
      leader.startsWith(p.metadata.name),
    );
    expect(leaderPod, `a pod holding the lease (${leader})`).to.not.equal(undefined);
    await inNs(['delete', 'pod', leaderPod?.metadata.name as string, '--grace-period=0', '--force']);
    await waitUntil(
      'another replica leads',
      async () => !(await lease()).startsWith(leaderPod?.metadata.name as string),
      {
        timeoutMs: 90_000,
      },
    );
    const late = await open('echo', 'tablet-3');
    expect(HOSTS).to.include(hostOf(late));
    expect((await late.invoke({ after: 'failover' })).result).to.deep.equal({ echo: { after: 'failover' } });
  });

  it('deletes the contexts over Mx2: AppContexts and actions gone', async () => {
    for (const s of sessions.splice(0)) await s.close();
    await waitUntil('no AppContext left', async () => (await contexts()).length === 0, { timeoutMs: 60_000 });
    await waitUntil(
      'no mecqkd action left on any host',
      async () => {
        for (const h of HOSTS) if ((await (await whisk(http, h)).actions()).length > 0) return false;
        return true;
      },
      { timeoutMs: 60_000 },
    );
  });

  it('every connection the system made between pods is one the chart’s NetworkPolicies allow', async () => {
    // the bridge CNI does not enforce them: judge the traffic an enforcing plugin would have seen
    await connections.sample();
    const list = async (kind: string) => JSON.parse(await kubectl(['get', kind, '-A', '-o', 'json'])).items;
    const world = {
      policies: (await list('networkpolicies')).map((p: unknown) => networkPolicySchema.parse(p)),
      namespaces: (await list('namespaces')).map((n: unknown) => namespaceSchema.parse(n)),
      nodeIps: (await run('ip', ['-4', '-o', 'addr', 'show']))
        .split('\n')
        .map((l) => /inet (\S+)\//.exec(l)?.[1])
        .filter((ip): ip is string => ip !== undefined),
    };
    expect(connections.errors(), 'conntrack/kubectl samples that failed').to.deep.equal([]);
    expect(world.policies.map((p: { metadata: { name: string } }) => p.metadata.name)).to.include(
      `${FN}-redis`,
    );
    const component = (
      pods: { metadata: { labels: Record<string, string> }; status: { podIP?: string } }[],
      ip: string,
    ) => pods.find((p) => p.status.podIP === ip)?.metadata.labels['app.kubernetes.io/component'];
    const edges = new Set<string>();
    const refused: string[] = [];
    for (const c of connections.seen()) {
      const v = verdict({ ...world, pods: c.pods }, c);
      if (!v.allowed) refused.push(`${c.clientIp} → ${c.serverIp}:${c.serverPort}: ${v.why}`);
      const from = component(c.pods, c.clientIp);
      const to = component(c.pods, c.serverIp);
      if (from && to) edges.add(`${from} → ${to}:${c.serverPort}`);
    }
    console.log(
      `      ${connections.seen().length} connections judged; between pods: ${[...edges].sort().join(', ')}`,
    );
    expect(refused).to.deep.equal([]);
    // the check saw the system's own pod-to-pod traffic, not an empty table
    expect([...edges]).to.include.members([
      'operator → redis:6379',
      'host-sae → redis:6379',
      'whisk-sim → host-sae:8443',
      'host-sae → kme-sim:8443',
    ]);
  });

  it('helm uninstall leaves nothing of the chart behind (the CRDs stay, as Helm keeps crds/)', async () => {
    await inNs(['delete', '-f', join(EXAMPLES, 'manifests', 'mecapp-echo.yaml')]);
    await inNs(['delete', '-f', join(EXAMPLES, 'manifests', 'mecapp-cardio.yaml')]);
    await inNs(['delete', '-f', join(EXAMPLES, 'manifests', 'actions-configmap.yaml')]);
    await kubectl(['delete', '-n', CREDS_NS, 'secret', `lcmp-client-${CLIENT.clientId}`]);
    await helmOk(['uninstall', RELEASE, '-n', NS, '--wait', '--timeout', '5m']);
    const kinds = (await kubectl(['api-resources', '--verbs=list', '--namespaced', '-o', 'name']))
      .split('\n')
      .filter((k) => k && !/^(events|events\.events\.k8s\.io)$/.test(k));
    const left = async () =>
      (await inNs(['get', kinds.join(','), '-o', 'name', '--ignore-not-found']))
        .split('\n')
        .filter((o) => o && !['configmap/kube-root-ca.crt', 'serviceaccount/default'].includes(o));
    let remaining: string[] = [];
    await waitUntil(
      'the namespace empty',
      async () => {
        remaining = await left();
        return remaining.length === 0;
      },
      { timeoutMs: 120_000 },
    ).catch(() => undefined);
    expect(remaining).to.deep.equal([]);
    const clusterWide = await kubectl([
      'get',
      'clusterroles,clusterrolebindings',
      '-l',
      `app.kubernetes.io/instance=${RELEASE}`,
      '-o',
      'name',
    ]);
    expect(clusterWide.trim()).to.equal('');
    const crds = await kubectl(['get', 'crds', '-o', 'name']);
    expect(crds).to.include('mechosts.mecqkd.io');
    await kubectl(['delete', 'namespace', NS, '--wait=false']);
  });
});
