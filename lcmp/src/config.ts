// LCMP settings: flags override MECQKD_* environment variables, which override these defaults.
import { booleanFlag as bool, parseSettings, settingsHelp } from '@mecqkd/common/cli-config';
import { z } from 'zod';

const num = z.coerce.number();
const list = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .default([]);

export const lcmpConfigSchema = z.object({
  kubeconfig: z.string().optional().describe('kubeconfig file; in-cluster or ~/.kube/config when absent'),
  namespace: z.string().default('default').describe('namespace of the MecApps, MecHosts and AppContexts'),
  kubeConnections: num.pipe(z.int().min(1).max(256)).default(16).describe('connections to the apiserver'),
  host: z.string().default('127.0.0.1').describe('address the Mx2 server listens on'),
  port: num.pipe(z.int().min(0).max(65535)).default(8443).describe('Mx2 port; 0 = any free port'),
  tlsCert: z.string().optional().describe('server certificate (PEM file); plain HTTP when absent'),
  tlsKey: z.string().optional().describe('server private key (PEM file)'),
  tlsClientCa: z.string().optional().describe('CA (PEM file) whose client certificates are required (mTLS)'),
  publicUrl: z
    .url()
    .optional()
    .describe('apiRoot the clients use, for Location headers; from the request when absent'),
  healthPort: num
    .pipe(z.int().min(0).max(65535))
    .default(8082)
    .describe('/healthz, /readyz and /metrics; 0 = any free port'),
  bodyLimit: num.pipe(z.int().min(1024)).default(65_536).describe('largest request body in bytes'),
  rateLimit: num
    .pipe(z.number().min(0))
    .default(50)
    .describe('Mx2 requests per second per client (429 beyond); 0 = no limit'),
  rateBurst: num.pipe(z.int().min(1)).default(100).describe('requests a quiet client may make at once'),
  headersTimeout: num
    .pipe(z.number().min(0.1))
    .default(10)
    .describe('seconds a connection may take to send its request headers'),
  requestTimeout: num
    .pipe(z.number().min(0.1))
    .default(30)
    .describe('seconds a connection may take to send a whole request'),
  maxConnections: num.pipe(z.int().min(1)).default(1024).describe('open Mx2 connections in all'),
  maxConnectionsPerAddress: num
    .pipe(z.int().min(1))
    .default(256)
    .describe('open Mx2 connections from one remote address'),
  placeTimeout: num
    .pipe(z.number().min(0.1))
    .default(5)
    .describe('seconds a create waits for the operator to place the context'),
  retryAfter: num.pipe(z.int().min(1)).default(10).describe('Retry-After seconds of a 503'),
  vendorId: z.string().max(32).default('mecqkd').describe('vendorId of the vendor extensions'),
  issuer: z
    .string()
    .default('urn:mecqkd:lcmp')
    .describe('expected (and, with the token endpoint, issued) iss'),
  audience: z.string().default('mecqkd-lcmp').describe('expected (and issued) aud'),
  jwksUrl: z.url().optional().describe('JWKS of an external OAuth 2.0 server (e.g. Keycloak)'),
  credentialsNamespace: z
    .string()
    .optional()
    .describe(
      'namespace of the client registrations, the JWKS Secret and the token signing key (one of their own, so the LCMP reads no other Secret); --namespace when absent',
    ),
  jwksSecret: z.string().optional().describe('Secret whose key jwks.json holds trusted public keys'),
  tokenEndpoint: bool.default(false).describe('serve POST /oauth2/token (client credentials)'),
  signingKeySecret: z
    .string()
    .default('lcmp-token-signing-key')
    .describe('Secret with the token endpoint signing key (created when missing)'),
  tokenCache: num
    .pipe(z.number().min(0).max(3600))
    .default(30)
    .describe('seconds a verified token is trusted before its signature is checked again; 0 = every request'),
  tokenTtl: num.pipe(z.int().min(10).max(86_400)).default(3600).describe('seconds an issued token lives'),
  clientSelector: z
    .string()
    .default('mecqkd.io/lcmp-client=true')
    .describe('label selector of the client registration Secrets'),
  callbackAllow: list.describe('CIDRs callbacks may reach (comma list); any non-internal address when empty'),
  callbackDeny: list.describe('further CIDRs callbacks must not reach (e.g. the cluster service CIDR)'),
  callbackTimeout: num
    .pipe(z.number().min(0.1))
    .default(5)
    .describe('seconds one notification POST may take'),
  notifyBackoff: num.pipe(z.number().min(0.01)).default(0.5).describe('first retry delay in seconds'),
  notifyMaxBackoff: num.pipe(z.number().min(0.01)).default(60).describe('longest retry delay in seconds'),
  notifyGiveUp: num
    .pipe(z.number().min(1))
    .default(900)
    .describe('seconds after which an undelivered notification is abandoned'),
  notifyWorkers: num.pipe(z.int().min(1).max(64)).default(4).describe('concurrent notification deliveries'),
  leaderElect: bool.default(true).describe('deliver notifications only while holding the Lease'),
  leaseName: z.string().default('mecqkd-lcmp-notifier').describe('Lease name'),
  leaseDuration: num.pipe(z.number().min(1)).default(15).describe('seconds'),
  renewDeadline: num.pipe(z.number().min(1)).default(10).describe('seconds'),
  retryPeriod: num.pipe(z.number().min(0.1)).default(2).describe('seconds'),
  identity: z.string().optional().describe('leader-election identity; hostname_pid when absent'),
});

export type LcmpConfig = z.output<typeof lcmpConfigSchema>;

export function parseLcmpConfig(argv: string[], env: NodeJS.ProcessEnv): LcmpConfig {
  const cfg = parseSettings(lcmpConfigSchema, argv, env);
  if ((cfg.tlsCert === undefined) !== (cfg.tlsKey === undefined))
    throw new Error('invalid configuration: --tls-cert and --tls-key go together');
  if (cfg.tlsClientCa && !cfg.tlsCert)
    throw new Error('invalid configuration: --tls-client-ca needs --tls-cert and --tls-key');
  return cfg;
}

export function helpText(): string {
  return `Usage: lcmp [serve] [flags]
       lcmp token --url <lcmp base URL> --client-id <id> [--client-secret-file <file>] [--ca <file>]
       lcmp hash-secret < secret

The mecqkd LCMP: ETSI GS MEC 016 V2.2.1 Mx2 (device application interface) in front of the operator,
with OAuth 2.0 bearer tokens and durable notifications.

Flags of serve:
${settingsHelp(lcmpConfigSchema)}
  --help                     this text
`;
}
