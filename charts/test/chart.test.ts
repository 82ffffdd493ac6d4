// The chart against the real local apiserver: lint, server-side dry run of everything it renders,
// pod hardening, and RBAC that grants each component exactly what its code uses.

import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostSaeConfigSchema } from '@mecqkd/host-sae/config';
import { hostWrapperSecret } from '@mecqkd/host-sae/wrapper-secret';
import { parseConfig as parseKmeConfig } from '@mecqkd/kme-sim/config';
import type { ControlPlane } from '@mecqkd/localenv/control-plane';
import { sharedControlPlane } from '@mecqkd/localenv/shared';
import { parseConfig as parseWhiskConfig } from '@mecqkd/whisk-sim/config';
import { expect } from 'chai';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { bundleComponent } from '../../hack/image-bundles.ts';
import { CHART_DIR, helm, renderChart } from '../src/helm.ts';
import {
  lcmpCredentialsPermissions,
  lcmpPermissions,
  leaseCleanupPermissions,
  operatorPermissions,
  type Permission,
  releaseCleanupPermissions,
} from '../src/rbac.ts';

const RELEASE = 'lab';
const FULLNAME = 'lab-mecqkd';
// the demo's client SAE quota, as `mecqkd key-quota --contexts 4` prints it for the hospital catalog
const CLIENT_APP_QOS = { maxBandwidth: 2560, burstBits: 32768 };
const LAB = [
  'lab.enabled=true',
  'lcmp.tokenEndpoint=true',
  `lab.clientAppQos.maxBandwidth=${CLIENT_APP_QOS.maxBandwidth}`,
  `lab.clientAppQos.burstBits=${CLIENT_APP_QOS.burstBits}`,
];
/** Every test of the lab profile reads one rendering: each makes a dozen RSA keys (slow on 2 cores). */
const LAB_NS = 'chart-lab';
const REPO = join(CHART_DIR, '..', '..');

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
}

interface Container {
  name: string;
  command?: string[];
  args?: string[];
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: unknown;
  };
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: unknown };
  serviceAccountName?: string;
  initContainers?: Container[];
  containers: Container[];
  volumes?: Volume[];
}

interface Volume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  configMap?: { name: string };
  emptyDir?: { medium?: string };
}

const parse = (yaml: string): Obj[] =>
  parseAllDocuments(yaml)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);

async function kubectl(cp: ControlPlane, args: string[], input?: string): Promise<string> {
  const r = await cp.kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** kubectl apply of rendered objects: those the chart places in a namespace of their own go there. */
async function applyObjects(
  cp: ControlPlane,
  ns: string,
  objs: Obj[],
  extra: string[] = [],
): Promise<string[]> {
  const lines: string[] = [];
  for (const own of [false, true]) {
    const part = objs.filter((o) => (o.metadata.namespace !== undefined) === own);
    if (part.length === 0) continue;
    const input = part.map((o) => JSON.stringify(o)).join('\n');
    const out = await kubectl(cp, ['apply', ...extra, ...(own ? [] : ['-n', ns]), '-f', '-'], input);
    lines.push(...out.trim().split('\n'));
  }
  return lines;
}

/** `kubectl auth can-i --list` as rule keys "resource|names|verb", without what every user may do. */
async function grantedTo(
  cp: ControlPlane,
  namespace: string,
  sa: string,
  saNamespace = namespace,
): Promise<string[]> {
  const out = await kubectl(cp, [
    'auth',
    'can-i',
    '--list',
    '--no-headers',
    '-n',
    namespace,
    `--as=system:serviceaccount:${saNamespace}:${sa}`,
  ]);
  const keys: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\S+)\s+\[[^\]]*\]\s+\[([^\]]*)\]\s+\[([^\]]*)\]\s*$/.exec(line.trim());
    if (!m || m[1]!.startsWith('selfsubject')) continue;
    for (const verb of m[3]!.split(' ')) keys.push(`${m[1]}|${m[2]}|${verb}`);
  }
  return keys.sort();
}

function expectedKeys(perms: Permission[]): string[] {
  return perms
    .flatMap((p) => {
      const [resource, sub] = p.resource.split('/');
      const name = `${resource}${p.group ? `.${p.group}` : ''}${sub ? `/${sub}` : ''}`;
      // can-i lists a rule of several names as one line per name
      return (p.resourceNames ?? ['']).flatMap((n) => p.verbs.map((v) => `${name}|${n}|${v}`));
    })
    .sort();
}

async function canI(cp: ControlPlane, ns: string, sa: string, args: string[]): Promise<boolean> {
  const r = await cp.kubectl(['auth', 'can-i', ...args, '-n', ns, `--as=system:serviceaccount:${ns}:${sa}`]);
  if (r.stdout.trim() !== 'yes' && r.stdout.trim() !== 'no') throw new Error(`can-i ${args}: ${r.stderr}`);
  return r.stdout.trim() === 'yes';
}

describe('charts/mecqkd', function () {
  this.timeout(240_000);
  let cp: ControlPlane;
  let labYaml: string;
  before(async () => {
    [cp, labYaml] = await Promise.all([sharedControlPlane(), renderChart(RELEASE, LAB_NS, LAB)]);
    await kubectl(cp, ['create', 'namespace', LAB_NS]);
  });

  it('passes helm lint with the defaults and with the lab profile', async () => {
    for (const set of [[], LAB]) {
      const r = await helm(['lint', '--strict', CHART_DIR, ...set.flatMap((s) => ['--set', s])]);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).to.match(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it('refuses values outside values.schema.json, naming the field', async () => {
    const r = await helm(['template', 'x', CHART_DIR, '--set', 'operator.replicas=0']);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.match(/operator.*replicas/);
    const host = await helm(['template', 'x', CHART_DIR, '--set', 'lab.hosts[0].name=Bad_Name']);
    expect(host.code).to.not.equal(0);
    expect(host.stderr).to.match(/lab.*hosts.*name/);
  });

  it('renders objects the apiserver accepts (kubectl apply --dry-run=server)', async () => {
    await kubectl(cp, ['create', 'namespace', 'chart-dry-default']);
    for (const [ns, yaml] of [
      ['chart-dry-default', await renderChart(RELEASE, 'chart-dry-default')],
      [LAB_NS, labYaml],
    ] as const) {
      // a server-side dry run creates no namespace, so the objects bound for the chart's own one
      // need it to exist already
      await kubectl(cp, ['create', 'namespace', `${ns}-lcmp-credentials`]);
      const out = await applyObjects(cp, ns, parse(yaml), ['--dry-run=server']);
      expect(out).to.have.length(parse(yaml).length);
    }
  });

  it("writes lab configs that kme-sim, whisk-sim and host-sae accept, wired to the chart's Services", async () => {
    const objs = parse(labYaml);
    const file = (kind: string, name: string, key: string) => {
      const o = objs.find((x) => x.kind === kind && x.metadata.name === name) as unknown as
        | { data?: Record<string, string>; stringData?: Record<string, string> }
        | undefined;
      const text = o?.stringData?.[key] ?? o?.data?.[key];
      if (text === undefined) throw new Error(`no ${key} in ${kind} ${name}`);
      return parseYaml(text) as unknown;
    };
    const services = new Set(
      objs.filter((o) => o.kind === 'Service').map((o) => `${o.metadata.name}.${LAB_NS}.svc`),
    );
    const kmes = parseKmeConfig(file('Secret', `${FULLNAME}-kme-config`, 'kme-sim.yaml'), '/');
    expect(kmes.kmes.map((k) => k.id)).to.deep.equal(['KME_CLIENT', 'KME_HOST_1', 'KME_HOST_2']);
    for (const k of kmes.kmes) expect(services, k.host).to.include(k.host);
    // the client SAE's key quota reaches the client KME only
    expect(kmes.kmes.map((k) => k.saes)).to.deep.equal([
      [{ id: 'SAE_CLIENT', appQos: CLIENT_APP_QOS }],
      [{ id: 'SAE_HOST_1' }],
      [{ id: 'SAE_HOST_2' }],
    ]);
    expect(kmes.links.map((l) => l.kmes)).to.deep.equal([
      ['KME_CLIENT', 'KME_HOST_1'],
      ['KME_CLIENT', 'KME_HOST_2'],
    ]);
    // the admin endpoint answers only the lab's admin certificate, which no pod mounts
    const adminSecret = objs.find(
      (o) => o.kind === 'Secret' && o.metadata.name === `${FULLNAME}-kme-admin`,
    ) as { data: Record<string, string> } | undefined;
    const adminCert = new X509Certificate(Buffer.from(adminSecret?.data['tls.crt'] ?? '', 'base64'));
    const labCa = new X509Certificate(Buffer.from(adminSecret?.data['ca.crt'] ?? '', 'base64'));
    expect(adminCert.verify(labCa.publicKey), 'signed by the lab CA').to.equal(true);
    const adminCn = /CN=([^\n]+)/.exec(adminCert.subject)?.[1];
    for (const k of kmes.kmes) expect(k.admins, k.id).to.deep.equal([adminCn]);
    for (const o of objs) {
      const volumes = (o.spec as { template?: { spec?: { volumes?: Volume[] } } } | undefined)?.template?.spec
        ?.volumes;
      for (const v of volumes ?? [])
        expect(v.secret?.secretName, `${o.metadata.name} mounts the admin certificate`).to.not.equal(
          `${FULLNAME}-kme-admin`,
        );
    }
    for (const h of ['host-1', 'host-2']) {
      const whisk = parseWhiskConfig(file('Secret', `${FULLNAME}-whisk-${h}`, 'whisk-sim.yaml'));
      const env = whisk.namespaces[0]!.containerEnv;
      expect(services).to.include(env.MECQKD_HOST_SAE_SERVICE_HOST);
      const sae = hostSaeConfigSchema.parse(file('ConfigMap', `${FULLNAME}-host-sae-${h}`, 'host-sae.yaml'));
      expect(sae.saeId).to.equal(`SAE_${h.toUpperCase().replace('-', '_')}`);
      expect(services).to.include(new URL(sae.kme.url).hostname);
    }
  });

  it('refers only to objects it renders, and to credentials labelled for their use', async () => {
    const objs = parse(labYaml);
    const named = (kind: string) => new Set(objs.filter((o) => o.kind === kind).map((o) => o.metadata.name));
    const [secrets, configMaps, accounts] = [named('Secret'), named('ConfigMap'), named('ServiceAccount')];
    for (const w of objs.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
      const pod = (w.spec as { template: { spec: PodSpec & { volumes?: Volume[] } } }).template.spec;
      expect(accounts, w.metadata.name).to.include(pod.serviceAccountName);
      for (const v of pod.volumes ?? []) {
        if (v.secret) expect(secrets, `${w.metadata.name} volume ${v.name}`).to.include(v.secret.secretName);
        if (v.configMap)
          expect(configMaps, `${w.metadata.name} volume ${v.name}`).to.include(v.configMap.name);
      }
    }
    const label = (name: string) =>
      objs.find((o) => o.kind === 'Secret' && o.metadata.name === name)?.metadata.labels?.[
        'mecqkd.io/credentials'
      ];
    for (const h of objs.filter((o) => o.kind === 'MecHost')) {
      const spec = h.spec as {
        openwhisk: { credentialsSecret: { name: string } };
        kme: { credentialsSecret: { name: string } };
      };
      expect(label(spec.openwhisk.credentialsSecret.name), h.metadata.name).to.equal('openwhisk');
      expect(label(spec.kme.credentialsSecret.name), h.metadata.name).to.equal('kme');
    }
    for (const l of objs.filter((o) => o.kind === 'QkdLink')) {
      const spec = l.spec as { credentialsSecret: { name: string } };
      expect(label(spec.credentialsSecret.name), l.metadata.name).to.equal('kme');
    }
  });

  it('hardens every pod: non-root, read-only root fs, no capabilities, RuntimeDefault seccomp, probes, resources', async () => {
    const objs = parse(labYaml);
    const workloads = objs.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));
    expect(workloads.map((w) => w.metadata.labels?.['app.kubernetes.io/component'])).to.include.members([
      'operator',
      'lcmp',
      'redis',
      'kme-sim',
      'whisk-sim',
      'host-sae',
      'release-cleanup',
      'lease-cleanup',
    ]);
    for (const w of workloads) {
      const pod = (w.spec as { template: { spec: PodSpec } }).template.spec;
      const where = `${w.kind} ${w.metadata.name}`;
      expect(pod.securityContext, where).to.include({ runAsNonRoot: true });
      expect(pod.securityContext?.seccompProfile, where).to.deep.equal({ type: 'RuntimeDefault' });
      expect(pod.serviceAccountName, where).to.be.a('string');
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        expect(c.securityContext, where).to.include({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
        });
        expect(c.securityContext?.capabilities, where).to.deep.equal({ drop: ['ALL'] });
        expect(c.resources?.requests, where).to.have.keys('cpu', 'memory');
        expect(c.resources?.limits, where).to.have.key('memory');
      }
      // a Job's pod runs to completion: nothing to probe
      for (const c of w.kind === 'Job' ? [] : pod.containers) {
        expect(c.livenessProbe, where).to.be.an('object');
        expect(c.readinessProbe, where).to.be.an('object');
      }
    }
  });

  it("gives each host SAE only its own wrapper secret: the master stays out of the SAE's container", async () => {
    const objs = parse(labYaml);
    const secretData = (name: string) =>
      (
        objs.find((o) => o.kind === 'Secret' && o.metadata.name === name) as unknown as {
          data: Record<string, string>;
        }
      ).data;
    const master = secretData(`${FULLNAME}-lab-pki`)['wrapper-secret'];
    expect(master).to.be.a('string');
    for (const h of ['host-1', 'host-2']) {
      const name = `${FULLNAME}-host-sae-${h}`;
      const deployment = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === name);
      const pod = (deployment!.spec as { template: { spec: PodSpec } }).template.spec;
      const sae = pod.containers.find((c) => c.name === 'host-sae')!;
      // no Secret the SAE's container mounts holds the master, under any key
      for (const m of sae.volumeMounts ?? []) {
        const v = pod.volumes?.find((x) => x.name === m.name);
        if (!v?.secret) continue;
        const data = secretData(v.secret.secretName);
        const keys = v.secret.items?.map((i) => i.key) ?? Object.keys(data);
        for (const k of keys)
          expect(data[k], `${name} mounts ${v.secret.secretName}/${k}`).to.not.equal(master);
      }
      // its wrapperSecretFile is the derived one, on a read-only in-memory volume the init container fills
      const config = hostSaeConfigSchema.parse(
        parseYaml(
          (
            objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name) as unknown as {
              data: Record<string, string>;
            }
          ).data['host-sae.yaml']!,
        ),
      );
      const file = config.wrapperSecretFile;
      const seen = sae.volumeMounts?.find((m) => file.startsWith(`${m.mountPath}/`));
      expect(seen, `${name}: no mount for ${file}`).to.be.an('object');
      expect(seen?.readOnly, name).to.equal(true);
      expect(pod.volumes?.find((v) => v.name === seen?.name)?.emptyDir, name).to.include({
        medium: 'Memory',
      });
      const init = pod.initContainers?.find((c) => c.args?.[0] === 'wrapper-secret');
      expect(init, `${name}: no init container deriving the wrapper secret`).to.be.an('object');
      const flag = (f: string) => init?.args?.[init.args.indexOf(f) + 1];
      expect(flag('--namespace'), name).to.equal(LAB_NS);
      expect(flag('--sae-id'), name).to.equal(config.saeId);
      const out = init?.volumeMounts?.find((m) => m.name === seen?.name);
      expect(flag('--out'), name).to.equal(`${out?.mountPath}${file.slice(seen!.mountPath.length)}`);
      const masterMount = init?.volumeMounts?.find((m) =>
        flag('--master-file')?.startsWith(`${m.mountPath}/`),
      );
      const masterVolume = pod.volumes?.find((v) => v.name === masterMount?.name)?.secret;
      const masterKey = masterVolume?.items?.find(
        (i) => `${masterMount?.mountPath}/${i.path}` === flag('--master-file'),
      )?.key;
      expect(masterVolume && secretData(masterVolume.secretName)[masterKey ?? ''], name).to.equal(master);
      // the init container's args, run through the image's ENTRYPOINT in the image's /app (as the
      // shared build stage lays it out), write what the operator gives this host's actions
      expect(init?.command, `${name}: the image's ENTRYPOINT must run`).to.equal(undefined);
      const entrypoint = JSON.parse(
        /^ENTRYPOINT (.*)$/m.exec(readFileSync(join(REPO, 'host-sae/Dockerfile'), 'utf8'))![1]!,
      ) as string[];
      const dir = mkdtempSync(join(tmpdir(), 'chart-wrapper-'));
      try {
        await bundleComponent('host-sae', join(dir, 'app'));
        const local = { [flag('--master-file')!]: join(dir, 'master'), [flag('--out')!]: join(dir, 'out') };
        writeFileSync(join(dir, 'master'), Buffer.from(master!, 'base64'));
        const args = init!.args!.map((a) => local[a] ?? a);
        execFileSync(entrypoint[0]!, [...entrypoint.slice(1), ...args], {
          cwd: join(dir, 'app'),
          stdio: 'pipe',
        });
        const derived = hostWrapperSecret(Buffer.from(master!, 'base64').toString(), {
          namespace: LAB_NS,
          saeId: config.saeId,
        });
        expect(readFileSync(join(dir, 'out'), 'utf8').trim(), name).to.equal(derived);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('gives each ServiceAccount exactly what its component uses (kubectl auth can-i, both ways)', async () => {
    const ns = LAB_NS;
    const objs = parse(labYaml);
    const rbac = objs.filter((o) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(o.kind));
    const creds = `${ns}-lcmp-credentials`;
    await cp.kubectl(['create', 'namespace', creds]); // made by the dry-run test when it ran first
    await applyObjects(cp, ns, rbac);
    expect(await grantedTo(cp, ns, `${FULLNAME}-operator`)).to.deep.equal(
      expectedKeys(operatorPermissions(FULLNAME)),
    );
    expect(await grantedTo(cp, ns, `${FULLNAME}-lcmp`)).to.deep.equal(
      expectedKeys(lcmpPermissions(FULLNAME)),
    );
    expect(await grantedTo(cp, creds, `${FULLNAME}-lcmp`, ns)).to.deep.equal(
      expectedKeys(lcmpCredentialsPermissions(FULLNAME, true)),
    );
    expect(await grantedTo(cp, ns, `${FULLNAME}-release-cleanup`)).to.deep.equal(
      expectedKeys(releaseCleanupPermissions()),
    );
    expect(await grantedTo(cp, ns, `${FULLNAME}-lease-cleanup`)).to.deep.equal(
      expectedKeys(leaseCleanupPermissions(FULLNAME)),
    );
    for (const sa of ['kme-sim', 'whisk-sim', 'host-sae', 'redis'])
      expect(await grantedTo(cp, ns, `${FULLNAME}-${sa}`), sa).to.deep.equal([]);
    // spot checks of what the rules' shape implies
    const op = `${FULLNAME}-operator`;
    expect(await canI(cp, ns, op, ['update', 'appcontexts.mecqkd.io', '--subresource=status'])).to.equal(
      true,
    );
    expect(await canI(cp, ns, op, ['patch', 'mechosts.mecqkd.io', '--subresource=status'])).to.equal(true);
    expect(await canI(cp, ns, op, ['update', 'appcontexts.mecqkd.io'])).to.equal(false);
    expect(await canI(cp, ns, op, ['get', `leases/${FULLNAME}-operator`])).to.equal(true);
    expect(await canI(cp, ns, op, ['get', `leases/${FULLNAME}-lcmp-notifier`])).to.equal(false);
    expect(await canI(cp, ns, op, ['list', 'secrets'])).to.equal(false);
    expect(await canI(cp, 'default', op, ['get', 'secrets'])).to.equal(false);
    const lcmp = `${FULLNAME}-lcmp`;
    expect(await canI(cp, ns, lcmp, ['create', 'appcontexts.mecqkd.io'])).to.equal(true);
    expect(await canI(cp, ns, lcmp, ['patch', 'appcontexts.mecqkd.io', '--subresource=status'])).to.equal(
      false,
    );
    expect(await canI(cp, ns, lcmp, ['get', 'secrets/other'])).to.equal(false);
    // the KME and OpenWhisk credentials beside the MecHosts are out of the LCMP's reach
    expect(await canI(cp, ns, lcmp, ['list', 'secrets'])).to.equal(false);
    expect(await canI(cp, ns, lcmp, ['watch', 'secrets'])).to.equal(false);
    expect(await canI(cp, ns, lcmp, ['delete', 'mechosts.mecqkd.io'])).to.equal(false);
  });

  it('grants the LCMP no Secret writes without the token endpoint', async () => {
    const objs = parse(await renderChart(RELEASE, 'default'));
    const roles = objs.filter(
      (o) => o.kind === 'Role' && o.metadata.name.startsWith(`${FULLNAME}-lcmp`),
    ) as unknown as {
      metadata: { namespace?: string };
      rules: { resources: string[]; verbs: string[] }[];
    }[];
    expect(roles.map((r) => r.metadata.namespace)).to.deep.equal([undefined, 'default-lcmp-credentials']);
    const secretVerbs = roles.flatMap((role) =>
      role.rules.filter((r) => r.resources.includes('secrets')).flatMap((r) => r.verbs),
    );
    expect(secretVerbs.sort()).to.deep.equal(['list', 'watch']);
  });
});
