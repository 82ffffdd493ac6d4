// The LCMP assembled: informers over MecApps, MecHosts, AppContexts and the client registration
// Secrets; the Mx2 server answering from them; the notifier running while this replica holds the
// Lease; /healthz, /readyz (caches synced) and /metrics on the health port.

import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import type { Logger } from '@mecqkd/common/logger';
import {
  type AppContext,
  appContext as appContextSchema,
  type MecApp,
  type MecHost,
  mecApp as mecAppSchema,
  mecHost as mecHostSchema,
} from '@mecqkd/crds';
import { APP_CONTEXTS, MEC_APPS, MEC_HOSTS, SECRETS } from '@mecqkd/crds/api-resources';
import { Controller } from '@mecqkd/kube/controller';
import { type HealthServer, startHealthServer } from '@mecqkd/kube/health';
import { Informer } from '@mecqkd/kube/informer';
import { createKubeClient, type KubeClient } from '@mecqkd/kube/kube-client';
import { collectionPath, objectKey } from '@mecqkd/kube/kube-paths';
import { LeaderElector, LeadershipEndedError } from '@mecqkd/kube/leader-election';
import type { KubeObject } from '@mecqkd/kube/types';
import type { JWK } from 'jose';
import { z } from 'zod';
import { ClientRegistry, type Secret } from './auth/registry.ts';
import { loadOrCreateSigningKey } from './auth/signing-key.ts';
import { createVerifier } from './auth/verifier.ts';
import type { LcmpConfig } from './config.ts';
import { availableLocations } from './mx2/catalog.ts';
import { keyUseOf } from './mx2/contexts.ts';
import { PlacementWaiter } from './mx2/placement-wait.ts';
import { decide as decideNotification } from './notify/decide.ts';
import { notificationReconciler } from './notify/notifier.ts';
import { openapiDocument } from './openapi.ts';
import { RateLimiter } from './rate-limit.ts';
import { buildServer, TOKEN_PATH } from './server.ts';
import { type Endpoint, SsrfPolicy } from './ssrf.ts';

const LOCATION_UPDATES = 'locationUpdates';

export interface RunningLcmp {
  /** Base URL of the Mx2 server (http or https). */
  url: string;
  port: number;
  health: HealthServer;
  kube: KubeClient;
  /** True while this replica delivers notifications. */
  leading(): boolean;
  stop(): Promise<void>;
}

const jwksSchema = z.object({ keys: z.array(z.looseObject({ kty: z.string() })) });

/** The apiserver's own addresses: callbacks never go there, allow-list or not. */
async function clusterApiEndpoints(kube: KubeClient): Promise<Endpoint[]> {
  const out: Endpoint[] = [];
  const add = async (host: string, port: number) => {
    const h = host.replace(/^\[(.*)\]$/, '$1');
    const addresses = isIP(h) ? [h] : (await lookup(h, { all: true }).catch(() => [])).map((a) => a.address);
    for (const address of addresses) out.push({ address, port });
  };
  const server = new URL(kube.server);
  await add(server.hostname, Number(server.port || (server.protocol === 'https:' ? 443 : 80)));
  const { KUBERNETES_SERVICE_HOST: h, KUBERNETES_SERVICE_PORT: p } = process.env;
  if (h) await add(h, Number(p ?? 443));
  return out;
}

export async function startLcmp(cfg: LcmpConfig, log: Logger): Promise<RunningLcmp> {
  const kube = await createKubeClient({
    ...(cfg.kubeconfig ? { kubeconfigPath: cfg.kubeconfig } : {}),
    connections: cfg.kubeConnections,
    userAgent: 'mecqkd-lcmp',
  });
  const ns = cfg.namespace;
  const credentialsNs = cfg.credentialsNamespace ?? ns;
  const informer = <T extends KubeObject>(
    name: string,
    path: string,
    extra: { parse?: (v: unknown) => T; labelSelector?: string; fieldSelector?: string } = {},
  ) => new Informer<T>({ name, client: kube, path, ...extra, logger: log.child({ informer: name }) });
  const contexts = informer<AppContext>('appcontexts', collectionPath(APP_CONTEXTS, ns), {
    parse: (v) => appContextSchema.parse(v),
  });
  const apps = informer<MecApp>('mecapps', collectionPath(MEC_APPS, ns), {
    parse: (v) => mecAppSchema.parse(v),
  });
  const hosts = informer<MecHost>('mechosts', collectionPath(MEC_HOSTS, ns), {
    parse: (v) => mecHostSchema.parse(v),
  });
  const clients = informer<Secret>('client-secrets', collectionPath(SECRETS, credentialsNs), {
    labelSelector: cfg.clientSelector,
  });
  const jwksSecrets = cfg.jwksSecret
    ? informer<Secret>('jwks-secret', collectionPath(SECRETS, credentialsNs), {
        fieldSelector: `metadata.name=${cfg.jwksSecret}`,
      })
    : undefined;
  const informers = [
    contexts,
    apps,
    hosts,
    clients,
    ...(jwksSecrets ? [jwksSecrets] : []),
  ] as Informer<KubeObject>[];
  const waiter = new PlacementWaiter(contexts);
  for (const i of informers) i.start();
  await Promise.all(informers.map((i) => i.waitForSync(60_000)));

  const signing = cfg.tokenEndpoint
    ? await loadOrCreateSigningKey(kube, credentialsNs, cfg.signingKeySecret)
    : undefined;
  const trustedKeys = (): JWK[] => {
    const keys: JWK[] = signing ? [signing.publicJwk] : [];
    for (const s of jwksSecrets?.list() ?? []) {
      const raw = s.data?.['jwks.json'];
      const parsed = raw
        ? jwksSchema.safeParse(JSON.parse(Buffer.from(raw, 'base64').toString('utf8')))
        : undefined;
      if (parsed?.success) keys.push(...(parsed.data.keys as JWK[]));
    }
    return keys;
  };
  const verify = createVerifier({
    issuer: cfg.issuer,
    audience: cfg.audience,
    ...(cfg.jwksUrl ? { jwksUrl: cfg.jwksUrl } : {}),
    localKeys: trustedKeys,
    cacheSeconds: cfg.tokenCache,
  });
  const registry = new ClientRegistry(clients, log);
  const ssrf = new SsrfPolicy({
    allow: cfg.callbackAllow,
    deny: cfg.callbackDeny,
    protectedEndpoints: await clusterApiEndpoints(kube),
  });
  const server = buildServer({
    mx2: {
      kube,
      namespace: ns,
      contexts,
      apps,
      hosts,
      waiter,
      ssrf,
      vendorId: cfg.vendorId,
      placeTimeoutMs: cfg.placeTimeout * 1000,
      retryAfterSeconds: cfg.retryAfter,
    },
    verify,
    registry,
    ...(signing
      ? {
          token: {
            registry,
            key: signing,
            issuer: cfg.issuer,
            audience: cfg.audience,
            ttlSeconds: cfg.tokenTtl,
          },
        }
      : {}),
    openapi: openapiDocument(
      cfg.tokenEndpoint && cfg.publicUrl ? `${cfg.publicUrl}${TOKEN_PATH}` : undefined,
    ),
    ...(cfg.publicUrl ? { publicUrl: cfg.publicUrl } : {}),
    bodyLimit: cfg.bodyLimit,
    limits: {
      rate: new RateLimiter({ perSecond: cfg.rateLimit, burst: cfg.rateBurst }),
      headersTimeoutMs: cfg.headersTimeout * 1000,
      requestTimeoutMs: cfg.requestTimeout * 1000,
      maxConnections: cfg.maxConnections,
      maxConnectionsPerAddress: cfg.maxConnectionsPerAddress,
    },
    ...(cfg.tlsCert && cfg.tlsKey
      ? {
          https: {
            cert: readFileSync(cfg.tlsCert),
            key: readFileSync(cfg.tlsKey),
            ...(cfg.tlsClientCa ? { ca: readFileSync(cfg.tlsClientCa) } : {}),
            requestCert: cfg.tlsClientCa !== undefined,
          },
        }
      : {}),
    log,
  });
  await server.listen({ host: cfg.host, port: cfg.port });
  const port = (server.server.address() as AddressInfo).port;
  const scheme = cfg.tlsCert ? 'https' : 'http';
  const urlHost = isIP(cfg.host) === 6 ? `[${cfg.host}]` : cfg.host === '0.0.0.0' ? '127.0.0.1' : cfg.host;

  const health = await startHealthServer(cfg.healthPort, cfg.host === '0.0.0.0' ? '0.0.0.0' : '127.0.0.1');
  health.addReadyzCheck('informers', () => informers.every((i) => i.healthy()));
  health.addReadyzCheck('mx2-server', () => server.server.listening);

  // notifications: one sender at a time, the Lease holder; a replica that loses the Lease campaigns again
  // MEC 016 6.4.5: contexts that asked to hear of new locations, looked at again when hosts change
  contexts.addIndex(LOCATION_UPDATES, (c) =>
    c.spec.appLocationUpdates && c.spec.callbackReference ? [c.metadata.namespace ?? ''] : [],
  );
  const availableFor = (c: AppContext) => {
    if (!c.spec.appLocationUpdates) return undefined;
    const app = apps.get(`${c.metadata.namespace}/${c.spec.appName}`);
    return app ? availableLocations(app, hosts.values(c.metadata.namespace), c.spec.appLocation) : [];
  };
  const reconciler = notificationReconciler({
    kube,
    contexts,
    availableFor,
    keyUseOf: (c) => {
      const app = apps.get(`${c.metadata.namespace}/${c.spec.appName}`);
      return app ? keyUseOf(app) : undefined;
    },
    ssrf,
    vendorId: cfg.vendorId,
    timeoutMs: cfg.callbackTimeout * 1000,
    backoffMs: cfg.notifyBackoff * 1000,
    maxBackoffMs: cfg.notifyMaxBackoff * 1000,
    giveUpMs: cfg.notifyGiveUp * 1000,
    log: log.child({ controller: 'notifications' }),
  });
  // most contexts owe nothing most of the time (every create and placement is an event): only those
  // that do are queued
  const owesNotification = (c: AppContext) =>
    decideNotification(c, cfg.vendorId, availableFor(c)).kind !== 'none';
  const notify = async (signal: AbortSignal) => {
    const controller = new Controller<AppContext>({
      name: 'lcmp-notifications',
      reconciler,
      informer: contexts,
      filter: owesNotification,
      workers: cfg.notifyWorkers,
      logger: log.child({ controller: 'notifications' }),
    })
      .watches(hosts, (h) => contexts.byIndex(LOCATION_UPDATES, h.metadata.namespace ?? '').map(objectKey))
      .watches(apps, (a) =>
        contexts
          .byIndex(LOCATION_UPDATES, a.metadata.namespace ?? '')
          .filter((c) => c.spec.appName === a.metadata.name)
          .map(objectKey),
      );
    await controller.start();
    // level-triggered: every context is looked at once per term, events do the rest
    for (const c of contexts.list()) if (owesNotification(c)) controller.queue.add(objectKey(c));
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await controller.stop();
  };
  let stopping = false;
  let elector: LeaderElector | undefined;
  let leadingNow = false;
  const campaign = cfg.leaderElect
    ? (async () => {
        while (!stopping) {
          elector = new LeaderElector(
            kube,
            {
              namespace: ns,
              name: cfg.leaseName,
              identity: cfg.identity ?? `${hostname()}_${process.pid}`,
              leaseDurationMs: cfg.leaseDuration * 1000,
              renewDeadlineMs: cfg.renewDeadline * 1000,
              retryPeriodMs: cfg.retryPeriod * 1000,
            },
            {
              onStartedLeading: async (signal) => {
                leadingNow = true;
                try {
                  await notify(signal);
                } finally {
                  leadingNow = false;
                }
              },
            },
            log.child({ component: 'leader-election' }),
          );
          try {
            await elector.run();
          } catch (err) {
            // Mx2 is served by every replica whoever leads: only the notifier stops with the Lease
            if (!(err instanceof LeadershipEndedError)) throw err;
            log.warn('Lost the notifier Lease; campaigning again', {
              reason: err.reason,
              error: err.message,
            });
          }
          if (!stopping) await new Promise((r) => setTimeout(r, cfg.retryPeriod * 1000));
        }
      })()
    : undefined;
  const unelected = new AbortController();
  const single = cfg.leaderElect
    ? undefined
    : (async () => {
        leadingNow = true;
        await notify(unelected.signal);
        leadingNow = false;
      })();
  health.addHealthzCheck('leader-election', () => elector?.healthy() ?? true);

  return {
    url: `${scheme}://${urlHost}:${port}`,
    port,
    health,
    kube,
    leading: () => leadingNow,
    async stop() {
      if (stopping) return;
      stopping = true;
      await server.close();
      unelected.abort();
      await elector?.stop();
      await campaign;
      await single;
      await Promise.all(informers.map((i) => i.stop()));
      await health.close();
      await kube.close();
    },
  };
}
