// The global flags, and the clients built from them on first use: the Mx2 client (bearer token
// given, or client credentials from the LCMP's token endpoint; HTTPS verified against --ca), the
// QKD 014 client of the client SAE (mutual TLS with the KME), the HTTP client for referenceURIs.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createQkd014Client, type Qkd014Client } from '@mecqkd/kme-sim/client';
import { createHttpClient, type HttpClient } from '../http.ts';
import { createMx2Client, type Mx2Client } from '../mx2-client.ts';
import { clientCredentials, staticToken, type TokenProvider } from '../token.ts';
import { type Flags, need, type OptionSpec, str, UsageError } from './command.ts';
import { type ContextStore, openContextStore } from './state.ts';

export const GLOBAL_OPTIONS: OptionSpec[] = [
  { name: 'lcmp-url', type: 'string', env: true, description: "the LCMP's apiRoot, e.g. https://lcmp:8443" },
  {
    name: 'token',
    type: 'string',
    env: true,
    description: 'a bearer token for Mx2 (else client credentials)',
  },
  { name: 'client-id', type: 'string', env: true, description: 'OAuth 2.0 client ID for the token endpoint' },
  {
    name: 'client-secret',
    type: 'string',
    env: true,
    description: 'its secret (prefer MECQKD_CLIENT_SECRET: flags show in ps)',
  },
  {
    name: 'token-url',
    type: 'string',
    env: true,
    description: 'the token endpoint',
    default: '<lcmp-url>/oauth2/token',
  },
  { name: 'ca', type: 'string', env: true, description: 'PEM file of the CA for the LCMP and referenceURIs' },
  { name: 'kme-url', type: 'string', env: true, description: "the client KME's QKD 014 base URL" },
  { name: 'kme-ca', type: 'string', env: true, description: "PEM file of the CA of the KME's certificate" },
  { name: 'kme-cert', type: 'string', env: true, description: "PEM file of the client SAE's certificate" },
  { name: 'kme-key', type: 'string', env: true, description: "PEM file of the client SAE's private key" },
  { name: 'client-sae-id', type: 'string', env: true, description: "the client SAE's ID (the envelope's)" },
  {
    name: 'state',
    type: 'string',
    env: true,
    description: 'file of the contexts this CLI created',
    default: '$XDG_CONFIG_HOME/mecqkd/contexts.json',
  },
  { name: 'output', short: 'o', type: 'string', env: true, description: 'table or json', default: 'table' },
  { name: 'help', short: 'h', type: 'boolean', description: 'show help' },
];

export interface Settings {
  lcmpUrl(): string;
  mx2(): Mx2Client;
  kme(): Qkd014Client;
  clientSaeId(): string;
  http(): HttpClient;
  contexts(): ContextStore;
  close(): Promise<void>;
}

function pem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`--${flag} ${path}: ${(err as Error).message}`);
  }
}

function statePath(flags: Flags, env: NodeJS.ProcessEnv): string {
  const given = str(flags, 'state');
  if (given) return given;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'mecqkd', 'contexts.json');
}

export function createSettings(flags: Flags, env: NodeJS.ProcessEnv): Settings {
  let http: HttpClient | undefined;
  let mx2: Mx2Client | undefined;
  let kme: Qkd014Client | undefined;
  let store: ContextStore | undefined;
  const lcmpUrl = () => need(flags, 'lcmp-url').replace(/\/+$/, '');
  const httpClient = () => {
    const ca = str(flags, 'ca');
    http ??= createHttpClient(ca ? { ca: pem(ca, 'ca') } : {});
    return http;
  };
  const tokens = (): TokenProvider | undefined => {
    const token = str(flags, 'token');
    if (token) return staticToken(token);
    const clientId = str(flags, 'client-id');
    if (!clientId) return undefined;
    return clientCredentials(
      {
        tokenUrl: str(flags, 'token-url') ?? `${lcmpUrl()}/oauth2/token`,
        clientId,
        clientSecret: need(flags, 'client-secret'),
      },
      httpClient().fetch,
    );
  };
  return {
    lcmpUrl,
    mx2() {
      const token = tokens();
      mx2 ??= createMx2Client({ url: lcmpUrl(), http: httpClient(), ...(token ? { token } : {}) });
      return mx2;
    },
    kme() {
      kme ??= createQkd014Client({
        url: need(flags, 'kme-url'),
        ca: pem(need(flags, 'kme-ca'), 'kme-ca'),
        cert: pem(need(flags, 'kme-cert'), 'kme-cert'),
        key: pem(need(flags, 'kme-key'), 'kme-key'),
      });
      return kme;
    },
    clientSaeId: () => need(flags, 'client-sae-id'),
    http: httpClient,
    contexts() {
      store ??= openContextStore(statePath(flags, env));
      return store;
    },
    async close() {
      kme?.close();
      await http?.close();
    },
  };
}
