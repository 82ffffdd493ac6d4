// No confused deputy, against the real control plane: a MecHost writer cannot make the operator send
// a Secret it is not meant to use (unlabelled, or in another namespace) to a URL of their choice, nor
// talk to an unverified OpenWhisk unless the operator was started with --allow-insecure-hosts; and
// the operator caches only the ConfigMaps labelled as action code. Local listeners record every
// request and TLS connection that reaches them.
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { toKubeYaml } from '@mecqkd/common/kube-yaml';
import { type CertificateAuthority, createCa, issueCertificate } from '@mecqkd/common/pki';
import type { MecApp, MecHost, QkdLink } from '@mecqkd/crds';
import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import { expect } from 'chai';
import type { ConfigMap } from '../../src/controllers/app-actions.ts';
import type { RunningOperator } from '../../src/operator.ts';
import { eventually, getJson, runOperator } from './support.ts';

interface Trap {
  url: string;
  /** Requests that reached the listener: method, path and Authorization header. */
  requests: { method: string; path: string; authorization?: string }[];
  /** TLS connections that completed a handshake, by client certificate common name. */
  connections: string[];
  close(): void;
}

async function startTrap(tls?: { ca: CertificateAuthority }): Promise<Trap> {
  const trap: Omit<Trap, 'url' | 'close'> = { requests: [], connections: [] };
  const record = (req: IncomingMessage, res: { statusCode: number; end(): void }) => {
    trap.requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    res.statusCode = 404;
    res.end();
  };
  let server: Server;
  if (tls) {
    const pem = await issueCertificate(tls.ca, {
      commonName: 'trap',
      ipAddresses: ['127.0.0.1'],
      server: true,
    });
    const https = createHttpsServer(
      { ...pem, ca: tls.ca.cert, requestCert: true, rejectUnauthorized: false },
      record,
    );
    https.on('secureConnection', (s: TLSSocket) =>
      trap.connections.push(String(s.getPeerCertificate()?.subject?.CN ?? '(no client certificate)')),
    );
    server = https;
  } else {
    server = createHttpServer(record);
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    ...trap,
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  } as Trap;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const ready = (h: MecHost | MecApp | QkdLink) => h.status?.conditions?.find((c) => c.type === 'Ready');

describe('least privilege and no confused deputy (e2e)', function () {
  this.timeout(180_000);
  let tb: MecTestbed;
  let op: RunningOperator | undefined;
  let ca: CertificateAuthority;
  const traps: Trap[] = [];
  const trap = async (https = false) => {
    const t = await startTrap(https ? { ca } : undefined);
    traps.push(t);
    return t;
  };

  const apply = (...docs: unknown[]) =>
    tb.kubectl(['apply', '-f', '-'], docs.map((d) => toKubeYaml(d)).join('---\n'));
  const secret = (name: string, data: Record<string, string>, labels: Record<string, string> = {}) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, labels },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  });
  const saeSecret = async (name: string, labels: Record<string, string> = {}) => {
    const pem = await issueCertificate(ca, { commonName: name, client: true });
    return secret(name, { 'tls.crt': pem.cert, 'tls.key': pem.key, 'ca.crt': ca.cert }, labels);
  };
  const mecHost = (
    name: string,
    openwhisk: { apiHost: string; secret: string; insecure?: boolean },
    kme: { url: string; secret: string },
  ) => ({
    apiVersion: 'mecqkd.io/v1alpha1',
    kind: 'MecHost',
    metadata: { name },
    spec: {
      openwhisk: {
        apiHost: openwhisk.apiHost,
        credentialsSecret: { name: openwhisk.secret },
        insecure: openwhisk.insecure ?? false,
      },
      kme: {
        url: kme.url,
        kmeId: `KME_${name}`,
        saeId: `SAE_${name}`,
        credentialsSecret: { name: kme.secret },
      },
    },
  });
  const readyOf = async (name: string) => ready(await getJson<MecHost>(tb, 'mechost', name));
  /** Waits for the refusal; fails naming what reached a trap, had anything been sent. */
  const refusedWith = (names: string[], reason: string, untouched: Trap[]) =>
    eventually(`${names.join(', ')} Ready=False ${reason}`, async () => {
      const sent = untouched.flatMap((t) => [
        ...t.requests.map((r) => `${r.method} ${t.url}${r.path} (${r.authorization ?? 'no credentials'})`),
        ...t.connections.map((cn) => `TLS to ${t.url} as ${cn}`),
      ]);
      if (sent.length) throw new Error(`the operator sent: ${sent.join('; ')}`);
      const conds = await Promise.all(names.map(readyOf));
      return conds.every((c) => c?.status === 'False' && c.reason === reason) && conds;
    });
  const warnings = async (name: string, reason: string) => {
    const events = await getJson<{
      items: { regarding?: { name?: string }; reason?: string; type?: string }[];
    }>(tb, 'events.events.k8s.io');
    return events.items.filter(
      (e) => e.regarding?.name === name && e.reason === reason && e.type === 'Warning',
    );
  };

  before(async () => {
    ca = await createCa('trap-ca');
    tb = await startMecTestbed({
      namespace: `op-trust-${Date.now().toString(36)}`,
      hosts: [{ name: 'host-1' }],
    });
  });
  afterEach(async () => {
    await op?.stop();
    op = undefined;
  });
  after(async () => {
    for (const t of traps) t.close();
    await tb?.stop();
  });

  it('refuses a plain-http apiHost and spec.openwhisk.insecure without --allow-insecure-hosts, sending nothing', async () => {
    const [plain, tlsTrap] = [await trap(), await trap(true)];
    await apply(
      secret('trap-ow', { auth: 'trap-uuid:trap-key' }, { 'mecqkd.io/credentials': 'openwhisk' }),
      await saeSecret('trap-sae', { 'mecqkd.io/credentials': 'kme' }),
      mecHost(
        'plain-http',
        { apiHost: plain.url, secret: 'trap-ow' },
        { url: tlsTrap.url, secret: 'trap-sae' },
      ),
      mecHost(
        'unverified',
        { apiHost: tlsTrap.url, secret: 'trap-ow', insecure: true },
        { url: tlsTrap.url, secret: 'trap-sae' },
      ),
    );
    op = await runOperator(tb, { allowInsecureHosts: false });
    await op.leading;
    const [, , host1] = await refusedWith(['plain-http', 'unverified', 'host-1'], 'InsecureEndpoint', [
      plain,
      tlsTrap,
    ]);
    expect(host1?.message).to.contain('--allow-insecure-hosts');
    await eventually(
      'Warning Events InsecureEndpoint',
      async () => (await warnings('plain-http', 'InsecureEndpoint')).length > 0,
    );
    expect(plain.requests, 'requests at the plain-http trap').to.deep.equal([]);
    expect(tlsTrap.requests, 'requests at the TLS trap').to.deep.equal([]);
    expect(tlsTrap.connections, 'TLS connections at the trap').to.deep.equal([]);
  });

  it('with --allow-insecure-hosts, uses Secrets labelled for mecqkd (the traps see them: they record)', async () => {
    op = await runOperator(tb);
    await op.leading;
    await eventually('host-1 Ready', async () => (await readyOf('host-1'))?.status === 'True');
    const plain = traps[0]!;
    await eventually('the labelled OpenWhisk key at the plain-http trap', async () =>
      plain.requests.some((r) => r.authorization === `Basic ${b64('trap-uuid:trap-key')}`),
    );
  });

  it('refuses unlabelled Secrets of the namespace: condition, Event, and nothing sent', async () => {
    const [owTrap, kmeTrap] = [await trap(), await trap(true)];
    await apply(
      secret('db-password', { auth: 'db-uuid:db-key' }),
      await saeSecret('web-tls', { app: 'web' }),
      mecHost(
        'deputy-ow',
        { apiHost: owTrap.url, secret: 'db-password' },
        { url: kmeTrap.url, secret: 'trap-sae' },
      ),
      {
        apiVersion: 'mecqkd.io/v1alpha1',
        kind: 'QkdLink',
        metadata: { name: 'deputy-link' },
        spec: {
          source: { kmeId: 'KME_A', url: kmeTrap.url },
          target: { kmeId: 'KME_B', url: kmeTrap.url },
          secretKeyRate: 1000,
          credentialsSecret: { name: 'web-tls' },
        },
      },
      mecHost(
        'deputy-kme',
        { apiHost: tb.whisks['host-1']!.apiHost, secret: 'host-1-openwhisk' },
        { url: kmeTrap.url, secret: 'web-tls' },
      ),
    );
    op = await runOperator(tb);
    await op.leading;
    const [ow, kme] = await refusedWith(['deputy-ow', 'deputy-kme'], 'SecretNotPermitted', [owTrap, kmeTrap]);
    expect(ow?.message).to.contain('db-password').and.contain('mecqkd.io/credentials=openwhisk');
    expect(kme?.message).to.contain('web-tls').and.contain('mecqkd.io/credentials=kme');
    const link = await eventually('deputy-link Ready=False SecretNotPermitted', async () => {
      const c = ready(await getJson<QkdLink>(tb, 'qkdlink', 'deputy-link'));
      return c?.reason === 'SecretNotPermitted' && c;
    });
    expect(link.message).to.contain('web-tls');
    for (const name of ['deputy-ow', 'deputy-kme', 'deputy-link'])
      await eventually(
        `Warning Event SecretNotPermitted for ${name}`,
        async () => (await warnings(name, 'SecretNotPermitted')).length > 0,
      );
    expect(owTrap.requests, 'requests at the OpenWhisk trap').to.deep.equal([]);
    expect(kmeTrap.connections, 'TLS connections at the KME trap').to.deep.equal([]);
  });

  it('never reads a Secret of another namespace', async () => {
    const [owTrap, kmeTrap] = [await trap(), await trap(true)];
    const other = `${tb.namespace}-other`;
    await tb.cp.kubectl(['create', 'namespace', other]);
    const created = await tb.cp.kubectl(['-n', other, 'apply', '-f', '-'], {
      input: toKubeYaml(
        secret('shared-ow', { auth: 'other-uuid:other-key' }, { 'mecqkd.io/credentials': 'openwhisk' }),
      ),
    });
    expect(created.code, created.stderr).to.equal(0);
    await apply(
      mecHost(
        'deputy-ns',
        { apiHost: owTrap.url, secret: 'shared-ow' },
        { url: kmeTrap.url, secret: 'trap-sae' },
      ),
    );
    op = await runOperator(tb);
    await op.leading;
    await refusedWith(['deputy-ns'], 'SecretNotFound', [owTrap, kmeTrap]);
    expect(owTrap.requests).to.deep.equal([]);
    expect(kmeTrap.connections).to.deep.equal([]);
  });

  it('caches only ConfigMaps labelled mecqkd.io/action-code=true and says when a referenced one lacks it', async () => {
    const configMap = (name: string, labels: Record<string, string> = {}) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, labels },
      data: { 'main.js': 'function main(p) { return p; }' },
    });
    await apply(
      configMap('plain-code'),
      configMap('unrelated'),
      configMap('labelled-code', { 'mecqkd.io/action-code': 'true' }),
      {
        apiVersion: 'mecqkd.io/v1alpha1',
        kind: 'MecApp',
        metadata: { name: 'from-plain' },
        spec: {
          appInfo: {
            appDId: 'from-plain',
            appName: 'from-plain',
            appProvider: 'p',
            appSoftVersion: '1',
            appDVersion: '1',
            appDescription: 'code from an unlabelled ConfigMap',
          },
          action: { codeFrom: { configMapKeyRef: { name: 'plain-code', key: 'main.js' } } },
        },
      },
    );
    op = await runOperator(tb);
    await op.leading;
    const cond = await eventually('from-plain Ready=False ConfigMapNotLabelled', async () => {
      const c = ready(await getJson<MecApp>(tb, 'mecapp', 'from-plain'));
      return c?.reason === 'ConfigMapNotLabelled' && c;
    });
    expect(cond.status).to.equal('False');
    expect(cond.message).to.contain('plain-code').and.contain('mecqkd.io/action-code=true');
    const cache = op.state!.informers.find((i) => i.name === 'configmaps')!;
    expect(cache.list().map((c) => (c as ConfigMap).metadata.name)).to.deep.equal(['labelled-code']);

    await tb.kubectl(['label', 'configmap', 'plain-code', 'mecqkd.io/action-code=true']);
    await eventually('from-plain Ready once its ConfigMap is labelled', async () => {
      const c = ready(await getJson<MecApp>(tb, 'mecapp', 'from-plain'));
      return c?.status === 'True';
    });
  });
});
