// Starts the ward tablet console on a running system: the device app's Mx2 session with the LCMP,
// its notification receiver, the client SAE's QKD 014 client, and the console's HTTP server.
// `make demo KEEP=1` calls startWardConsole with the system it started.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createQkd014Client } from '@mecqkd/kme-sim/client';
import { createKeySupply, type KeySupply } from '@mecqkd/sdk/key-supply';
import { createSecureInvoker } from '@mecqkd/sdk/secure-invoke';
import { type ConsoleCore, createConsoleCore, type Placement, type Session } from './core.ts';
import { serveConsole } from './server.ts';
import { createWards } from './wards.ts';

export interface WardConsoleOptions {
  /** Mx2 base URL of the LCMP (its /dev_app/v1 and /oauth2/token live under it). */
  lcmpUrl: string;
  clientId: string;
  clientSecret: string;
  /** associateDevAppId of the contexts; must be one the client registration allows. */
  devAppId: string;
  /** The client perimeter's SAE: its ID, its KME's URL and its mTLS files (PEM paths). */
  clientSae: { id: string; url: string; ca: string; cert: string; key: string };
  /** Where the console listens (loopback by default). */
  host?: string;
  port?: number;
  /** Seed of the simulated patients. */
  seed?: number;
}

export interface RunningWardConsole {
  url: string;
  core: ConsoleCore;
  stop(): Promise<void>;
}

const ms = (t0: number) => performance.now() - t0;

export async function startWardConsole(opts: WardConsoleOptions): Promise<RunningWardConsole> {
  const kme = createQkd014Client({
    url: opts.clientSae.url,
    ca: readFileSync(opts.clientSae.ca),
    cert: readFileSync(opts.clientSae.cert),
    key: readFileSync(opts.clientSae.key),
  });
  const mx2 = `${opts.lcmpUrl.replace(/\/+$/, '')}/dev_app/v1`;
  const tokenRes = await fetch(`${opts.lcmpUrl.replace(/\/+$/, '')}/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${opts.clientId}:${opts.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const token = ((await tokenRes.json()) as { access_token: string }).access_token;
  const auth = { authorization: `Bearer ${token}` };

  let core: ConsoleCore | undefined;
  const receiver = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => {
      res.writeHead(204).end();
      const n = JSON.parse(data) as {
        notificationType: string;
        contextId: string;
        referenceURI?: string;
        appInstanceId?: string;
        vendorSpecificExt?: { hostSaeId: string };
      };
      const placement =
        n.referenceURI && n.appInstanceId && n.vendorSpecificExt
          ? {
              contextId: n.contextId,
              host: n.appInstanceId.split('/')[0]!,
              hostSaeId: n.vendorSpecificExt.hostSaeId,
              referenceURI: n.referenceURI,
            }
          : undefined;
      for (const l of moved) l(n.contextId, placement);
      core?.notified({
        type: n.notificationType,
        contextId: n.contextId,
        ...(placement ? { placement } : {}),
      });
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const callback = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/notify`;
  const moved = new Set<(id: string, p: Placement | undefined) => void>();

  async function open(app: string): Promise<Session> {
    const at = new Date().toISOString();
    let t0 = performance.now();
    const list = await fetch(`${mx2}/app_list?appName=${app}`, { headers: auth });
    if (!list.ok) throw new Error(`app_list: ${list.status}`);
    const listAppsMs = ms(t0);
    t0 = performance.now();
    const created = await fetch(`${mx2}/app_contexts`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        associateDevAppId: opts.devAppId,
        callbackReference: callback,
        appInfo: { appName: app, appProvider: 'hospital-it', appDVersion: '1.0', userAppInstanceInfo: [{}] },
      }),
    });
    const body = (await created.json()) as {
      contextId: string;
      appInfo: {
        userAppInstanceInfo: {
          appInstanceId: string;
          referenceURI: string;
          vendorSpecificExt: { hostSaeId: string };
        }[];
      };
    };
    if (created.status !== 201) throw new Error(`create context: ${created.status} ${JSON.stringify(body)}`);
    const createContextMs = ms(t0);
    const inst = body.appInfo.userAppInstanceInfo[0]!;
    let placement: Placement = {
      contextId: body.contextId,
      host: inst.appInstanceId.split('/')[0]!,
      hostSaeId: inst.vendorSpecificExt.hostSaeId,
      referenceURI: inst.referenceURI,
    };
    const n = app === 'covid-risk' ? 10 : 1;
    let keys: KeySupply;
    let invoker: ReturnType<typeof createSecureInvoker>;
    let last = { keyId: '', seq: 0, ms: 0 };
    const connect = () => {
      const supply = createKeySupply({ kme, hostSaeId: placement.hostSaeId, invocationsPerKey: n });
      keys = {
        ...supply,
        async next() {
          const t = performance.now();
          const u = await supply.next();
          last = { keyId: u.keyId, seq: u.seq, ms: ms(t) };
          return u;
        },
      };
      invoker = createSecureInvoker(
        {
          referenceURI: placement.referenceURI,
          contextId: placement.contextId,
          clientSaeId: opts.clientSae.id,
          invocationsPerKey: n,
        },
        keys,
      );
    };
    connect();
    moved.add((id, p) => {
      if (id !== placement.contextId || !p) return;
      keys.close();
      placement = p;
      connect();
    });
    return {
      placement: () => placement,
      timings: { at, listAppsMs, createContextMs },
      async invoke(args) {
        const t = performance.now();
        const result = await invoker.invoke(args as Record<string, unknown>);
        const total = ms(t);
        return {
          result,
          keyId: last.keyId,
          seq: last.seq,
          placement,
          timings: {
            clientKeyMs: last.ms,
            keyFetched: last.ms > 1,
            encryptMs: 0,
            invokeMs: total - last.ms,
            decryptMs: 0,
          },
        };
      },
      async close() {
        keys.close();
        await fetch(`${mx2}/app_contexts/${placement.contextId}`, { method: 'DELETE', headers: auth });
      },
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
      receiver.close();
      kme.close();
    },
  };
}
