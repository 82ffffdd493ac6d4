// Rotated KME credentials: the QkdLink reconciler probes a real HTTPS listener over mutual TLS; the
// keep-alive connections of a credential set that was rotated away, or of a deleted link, are closed.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createLogger } from '@mecqkd/common/logger';
import { createCa, issueCertificate, type Pem } from '@mecqkd/common/pki';
import { waitUntil } from '@mecqkd/common/process';
import type { QkdLink } from '@mecqkd/crds';
import type { KubeClient } from '@mecqkd/kube/kube-client';
import { objectPath } from '@mecqkd/kube/kube-paths';
import type { Cache, KubeObject } from '@mecqkd/kube/types';
import { expect } from 'chai';
import { ContextIndex } from '../../src/controllers/context-index.ts';
import { qkdLinkReconciler } from '../../src/controllers/qkdlink.ts';
import { SECRETS } from '../../src/controllers/resources.ts';
import { tlsAgents } from '../../src/controllers/tls-agents.ts';
import { link } from './fixtures.ts';

function mapCache<T extends KubeObject>(items: Map<string, T>): Cache<T> {
  return {
    get: (k) => items.get(k),
    list: () => [...items.values()],
    values: () => items.values(),
    hasSynced: () => true,
  };
}

const end = (local: string, remote: string) => ({
  localKmeId: local,
  remoteKmeId: remote,
  status: 'ACTIVE',
  skr: 1000,
  storedKeyCount: 10,
  maxKeyCount: 10,
  keyAvailability: 1,
});

describe('TLS agents of rotated credentials', () => {
  let ca: Awaited<ReturnType<typeof createCa>>;
  let server: Server;
  let url: string;
  /** Open connections at the listener, by the client certificate's common name. */
  const open = new Map<TLSSocket, string>();

  before(async () => {
    ca = await createCa('test-ca');
    const tls = await issueCertificate(ca, { commonName: 'kme', ipAddresses: ['127.0.0.1'], server: true });
    server = createServer(
      { ...tls, ca: ca.cert, requestCert: true, rejectUnauthorized: true, keepAliveTimeout: 600_000 },
      (_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ kmeId: 'KME_A', links: [end('KME_A', 'KME_B'), end('KME_B', 'KME_A')] }));
      },
    );
    server.on('secureConnection', (sock) => {
      open.set(sock, String(sock.getPeerCertificate().subject?.CN));
      sock.on('close', () => open.delete(sock));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('closes the connections of a rotated credential set and of a deleted link', async () => {
    const secretPath = objectPath(SECRETS, 'ns', 'link-sae');
    const secrets = new Map<string, KubeObject>();
    const statuses: unknown[] = [];
    const kube = {
      get: async (path: string) => secrets.get(path),
      patchStatus: async (_path: string, _type: string, body: { status: unknown }) => {
        statuses.push(body.status);
        return {};
      },
    } as unknown as KubeClient;
    const base = link('l1', 'KME_A', 'KME_B');
    const l: QkdLink = {
      ...base,
      spec: {
        ...base.spec,
        source: { kmeId: 'KME_A', url },
        target: { kmeId: 'KME_B', url },
        credentialsSecret: { name: 'link-sae' },
      },
    };
    const links = new Map([['ns/l1', l]]);
    const reconcile = qkdLinkReconciler({
      kube,
      links: mapCache(links),
      apps: mapCache(new Map()),
      index: new ContextIndex(),
      probePeriodMs: 1000,
      events: { record: () => {} },
      now: Date.now,
      log: createLogger('test', 'silent'),
    });
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const rotateTo = (pem: Pem) =>
      secrets.set(secretPath, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'link-sae', namespace: 'ns', labels: { 'mecqkd.io/credentials': 'kme' } },
        data: { 'tls.crt': b64(pem.cert), 'tls.key': b64(pem.key), 'ca.crt': b64(ca.cert) },
      });

    const agentsBefore = tlsAgents.size;
    for (const cn of ['sae-1', 'sae-2', 'sae-3', 'sae-4']) {
      rotateTo(await issueCertificate(ca, { commonName: cn, client: true }));
      await reconcile('ns/l1');
      const ready = (statuses.at(-1) as QkdLink['status'])?.conditions?.find((c) => c.type === 'Ready');
      expect(ready?.reason, ready?.message).to.equal('LinkActive');
      await waitUntil(
        `only ${cn} connections open (open: ${[...open.values()]})`,
        async () => [...open.values()].every((c) => c === cn),
        { timeoutMs: 5000 },
      );
      expect([...open.values()]).to.include(cn);
    }
    expect(tlsAgents.size, 'agents after four credential sets').to.equal(agentsBefore + 1);
    links.delete('ns/l1');
    await reconcile('ns/l1');
    await waitUntil(
      `no connections of the deleted link open (open: ${[...open.values()]})`,
      async () => open.size === 0,
      { timeoutMs: 5000 },
    );
    expect(tlsAgents.size, 'agents after the link is gone').to.equal(agentsBefore);
  });
});
