// Shared pieces of the runtime tests: a client on the shared control plane, a fresh namespace per
// file, a loopback TCP proxy whose connections the test can sever, and etcd compaction.
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { sharedControlPlane } from '@mecqkd/localenv/shared';
import { createKubeClient, type KubeClient, type KubeClientOptions } from '../src/kube-client.ts';
import { collectionPath, objectPath, type ResourceType } from '../src/kube-paths.ts';

export const configMaps: ResourceType = { group: '', version: 'v1', plural: 'configmaps' };
export const mecHosts: ResourceType = { group: 'mecqkd.io', version: 'v1alpha1', plural: 'mechosts' };
const namespaces: ResourceType = { group: '', version: 'v1', plural: 'namespaces' };

export async function clientFor(opts: KubeClientOptions = {}): Promise<KubeClient> {
  const plane = await sharedControlPlane();
  return createKubeClient({ kubeconfigPath: plane.kubeconfigPath, ...opts });
}

/** Creates `runtime-<prefix>-<random>`; returns its name and a cleanup that deletes it. */
export async function freshNamespace(client: KubeClient, prefix: string): Promise<string> {
  const name = `rt-${prefix}-${randomBytes(3).toString('hex')}`;
  await client.create(collectionPath(namespaces), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  });
  return name;
}

export async function deleteNamespace(client: KubeClient, name: string): Promise<void> {
  await client.delete(objectPath(namespaces, undefined, name));
}

export function configMap(namespace: string, name: string, data: Record<string, string> = {}) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
}

/** Polls `probe` until it returns a truthy value (returned) or `timeoutMs` passes (throws). */
export async function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`, { cause: last });
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A TCP proxy on 127.0.0.1 in front of `target`, able to cut every connection and refuse new ones. */
export class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private refusing = false;
  connections = 0;

  private constructor(private readonly server: Server) {}

  static async start(target: string): Promise<CuttableProxy> {
    const url = new URL(target);
    const server = createServer();
    const proxy = new CuttableProxy(server);
    server.on('connection', (down) => {
      if (proxy.refusing) return down.destroy();
      proxy.connections++;
      const up = connect(Number(url.port), url.hostname);
      for (const s of [down, up]) {
        proxy.sockets.add(s);
        s.on('close', () => proxy.sockets.delete(s));
        s.on('error', () => {});
      }
      down.pipe(up).pipe(down);
      down.on('close', () => up.destroy());
      up.on('close', () => down.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    const addr = this.server.address();
    if (!addr || typeof addr === 'string') throw new Error('proxy is not listening');
    return `https://127.0.0.1:${addr.port}`;
  }

  /** Severs every open connection; with `refuse`, new ones are dropped too until resume(). */
  cut(refuse = false): void {
    this.refusing = refuse;
    for (const s of this.sockets) s.destroy();
  }

  resume(): void {
    this.refusing = false;
  }

  async close(): Promise<void> {
    this.cut(true);
    await new Promise((r) => this.server.close(r));
  }
}

/**
 * Compacts etcd at its current revision, so every older resourceVersion answers 410 Gone, at least
 * for resources the apiserver does not serve from its watch cache (core/v1 Events; cached ones keep
 * serving old revisions from memory).
 */
export async function compactEtcd(): Promise<number> {
  const { etcdUrl } = await sharedControlPlane();
  const range = await fetch(`${etcdUrl}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: Buffer.from('/').toString('base64') }),
  });
  if (!range.ok) throw new Error(`etcd range: ${range.status} ${await range.text()}`);
  const revision = Number(((await range.json()) as { header: { revision: string } }).header.revision);
  const res = await fetch(`${etcdUrl}/v3/kv/compaction`, {
    method: 'POST',
    body: JSON.stringify({ revision, physical: true }),
  });
  const text = await res.text();
  // Compacting at an already compacted revision (nothing written since) leaves the same outcome.
  if (!res.ok && !text.includes('required revision has been compacted')) {
    throw new Error(`etcd compaction at ${revision}: ${res.status} ${text}`);
  }
  return revision;
}
