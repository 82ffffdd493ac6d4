// Starts the ward tablet console on a running system, on the SDK: the device app's Mx2 client (client
// credentials from the LCMP's token endpoint), one notification receiver for the tablet's contexts,
// the client SAE's QKD 014 client, an offload session per model, and the console's HTTP server.
// `make demo KEEP=1` calls startWardConsole with the system it started.
import { readFileSync } from 'node:fs';
import { createQkd014Client } from '@mecqkd/kme-sim/client';
import { createMx2Client } from '@mecqkd/sdk/mx2-client';
import type { Notification } from '@mecqkd/sdk/mx2-schemas';
import { startNotificationReceiver } from '@mecqkd/sdk/notification-receiver';
import { instanceOf, openOffloadSession } from '@mecqkd/sdk/offload-session';
import { clientCredentials } from '@mecqkd/sdk/token';
import { keyPolicy } from '../key-policy.ts';
import { type ConsoleCore, createConsoleCore, type Placement, type Session } from './core.ts';
import { serveConsole } from './server.ts';
import { createWards } from './wards.ts';

export interface WardConsoleOptions {
  /** The LCMP's apiRoot (Mx2 under /dev_app/v1, the token endpoint at /oauth2/token). */
  lcmpUrl: string;
  clientId: string;
  clientSecret: string;
  /** associateDevAppId of the contexts; one the client registration allows. */
  devAppId: string;
  /** The client perimeter's SAE: its ID, its KME's URL and its mTLS files (PEM paths); DemoSystem.clientSae. */
  clientSae: { id: string; kmeUrl: string; ca: string; cert: string; key: string };
  /** Where the console listens (loopback by default; port 0 = any free one). */
  host?: string;
  port?: number;
  /** Seed of the simulated patients. */
  seed?: number;
}

export interface RunningWardConsole {
  /** The page, e.g. http://127.0.0.1:41234/ */
  url: string;
  core: ConsoleCore;
  /** Deletes the tablet's contexts over Mx2 and stops its servers. */
  stop(): Promise<void>;
}

/** appInstanceId is "<host>/<action>" (operator/src/controllers/context-index.ts). */
const placementOf = (
  contextId: string,
  t: { appInstanceId: string; referenceURI: string; hostSaeId: string },
): Placement => ({
  contextId,
  host: t.appInstanceId.split('/')[0] ?? t.appInstanceId,
  hostSaeId: t.hostSaeId,
  referenceURI: t.referenceURI,
});

export async function startWardConsole(opts: WardConsoleOptions): Promise<RunningWardConsole> {
  const apiRoot = opts.lcmpUrl.replace(/\/+$/, '');
  const kme = createQkd014Client({
    url: opts.clientSae.kmeUrl,
    ca: readFileSync(opts.clientSae.ca),
    cert: readFileSync(opts.clientSae.cert),
    key: readFileSync(opts.clientSae.key),
  });
  const mx2 = createMx2Client({
    url: apiRoot,
    token: clientCredentials(
      { tokenUrl: `${apiRoot}/oauth2/token`, clientId: opts.clientId, clientSecret: opts.clientSecret },
      fetch,
    ),
  });
  const receiver = await startNotificationReceiver();
  let core: ConsoleCore | undefined;

  async function open(appName: string): Promise<Session> {
    const at = new Date().toISOString();
    let t0 = performance.now();
    const [listed] = await mx2.listApps({ appName: [appName] });
    if (!listed) throw new Error(`the LCMP lists no app ${appName}`);
    const listAppsMs = performance.now() - t0;
    t0 = performance.now();
    const { appProvider, appDVersion, appDId, appSoftVersion } = listed.appInfo;
    const s = await openOffloadSession({
      mx2,
      app: { appName, appProvider, appDVersion, appDId, appSoftVersion },
      associateDevAppId: opts.devAppId,
      kme,
      clientSaeId: opts.clientSae.id,
      ...keyPolicy(appName),
      receiver,
    });
    const createContextMs = performance.now() - t0;
    // the session emits only its own context's notifications
    s.on('notification', (n: Notification) => {
      const i = instanceOf(n);
      const hostSaeId = i?.vendorSpecificExt?.hostSaeId;
      core?.notified({
        type: n.notificationType,
        contextId: s.contextId,
        ...(i && hostSaeId ? { placement: placementOf(s.contextId, { ...i, hostSaeId }) } : {}),
      });
    });
    return {
      placement: () => placementOf(s.contextId, s.target()),
      timings: { at, listAppsMs, createContextMs },
      async invoke(args) {
        const waits = s.stats().waits;
        const o = await s.invoke(args as Record<string, unknown>);
        return {
          result: o.result,
          keyId: o.keyId,
          seq: o.seq,
          placement: placementOf(s.contextId, o.instance),
          timings: {
            clientKeyMs: o.timings.key,
            // the key supply counts the invocations that had to wait for the KME
            keyFetched: s.stats().waits > waits,
            encryptMs: o.timings.seal,
            invokeMs: o.timings.request,
            decryptMs: o.timings.open,
            ...(o.hostTimings
              ? {
                  host: {
                    keyMs: o.hostTimings.key,
                    decryptMs: o.hostTimings.open,
                    runMs: o.hostTimings.run,
                    encryptMs: o.hostTimings.seal,
                  },
                }
              : {}),
          },
        };
      },
      close: () => s.close(),
    };
  }

  core = createConsoleCore({ wards: createWards(opts.seed), open });
  const server = await serveConsole(core, opts.host, opts.port);
  return {
    url: server.url,
    core,
    async stop() {
      await server.close();
      await core.close();
      await receiver.close();
      await mx2.close();
      kme.close();
    },
  };
}
