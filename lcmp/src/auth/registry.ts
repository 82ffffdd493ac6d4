// Client registrations: one Kubernetes Secret per OAuth 2.0 client (label mecqkd.io/lcmp-client=true)
// saying who it is, what it may do on Mx2 and which QKD identity its contexts use. Tokens from the
// LCMP's own endpoint or from an external issuer name the client; this is where its rights come from.
import type { Logger } from '@mecqkd/common/logger';
import type { Informer } from '@mecqkd/kube/informer';
import type { KubeObject } from '@mecqkd/kube/types';
import { z } from 'zod';

export interface Secret extends KubeObject {
  data?: Record<string, string>;
}

const idList = z.string().transform((s) =>
  s.trim() === '*'
    ? ('*' as const)
    : s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
);

const qkdId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'a QKD 014 identifier');

export const registrationSchema = z.object({
  clientId: z.string().min(1).max(256),
  /** scrypt hash of the client secret (`lcmp hash-secret`); absent for clients of an external issuer. */
  secretHash: z.string().optional(),
  /** associateDevAppId values the client may use, comma separated, or `*`. */
  devAppIds: idList,
  /** MecApp names the client may use, comma separated, or `*`. */
  apps: idList,
  kmeId: qkdId,
  saeId: qkdId,
});

export type ClientRegistration = z.infer<typeof registrationSchema>;

export function parseRegistration(secret: Secret): ClientRegistration {
  const decoded: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {}))
    decoded[k] = Buffer.from(v, 'base64').toString('utf8');
  return registrationSchema.parse(decoded);
}

export class ClientRegistry {
  constructor(
    private readonly secrets: Informer<Secret>,
    private readonly log: Logger,
  ) {}

  /** The registration of `clientId`; undefined when none (or only an invalid one) exists. */
  get(clientId: string): ClientRegistration | undefined {
    for (const s of this.secrets.list()) {
      if (Buffer.from(s.data?.clientId ?? '', 'base64').toString('utf8') !== clientId) continue;
      try {
        return parseRegistration(s);
      } catch (err) {
        this.log.warn('Ignored an invalid client registration', {
          secret: s.metadata.name,
          error: err instanceof z.ZodError ? err.issues.map((i) => i.path.join('.')).join(', ') : String(err),
        });
      }
    }
    return undefined;
  }
}
