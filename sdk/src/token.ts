// Bearer tokens for Mx2: a fixed one, or OAuth 2.0 client credentials (RFC 6749 §4.4) from the
// LCMP's token endpoint, cached until shortly before they expire and refreshed after a 401.
import type { Fetch } from './http.ts';
import { tokenAnswer } from './mx2-schemas.ts';

export interface TokenProvider {
  /** A token to send now. */
  token(): Promise<string>;
  /** The last token was refused (401): the next call fetches another, when that is possible. */
  invalidate(): void;
}

export function staticToken(token: string): TokenProvider {
  return { token: async () => token, invalidate: () => undefined };
}

export interface ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
}

/** Token endpoint failures, with the RFC 6749 §5.2 error code (never the secret). */
export class TokenError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly error?: string,
  ) {
    super(message);
  }
}

const formEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');

export function clientCredentials(
  c: ClientCredentials,
  fetch: Fetch,
  now: () => number = Date.now,
): TokenProvider {
  let cached: { token: string; until: number } | undefined;
  let pending: Promise<string> | undefined;
  async function fetchToken(): Promise<string> {
    const basic = Buffer.from(`${formEncode(c.clientId)}:${formEncode(c.clientSecret)}`).toString('base64');
    const res = await fetch(c.tokenUrl, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        ...(c.scope ? { scope: c.scope } : {}),
      }).toString(),
    });
    const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!res.ok) {
      const code = typeof body?.error === 'string' ? body.error : undefined;
      const what = typeof body?.error_description === 'string' ? `: ${body.error_description}` : '';
      throw new TokenError(
        `the token endpoint ${c.tokenUrl} refused client ${c.clientId} (HTTP ${res.status}${code ? ` ${code}` : ''}${what})`,
        res.status,
        code,
      );
    }
    const parsed = tokenAnswer.safeParse(body);
    if (!parsed.success)
      throw new TokenError(`the token endpoint ${c.tokenUrl} answered no bearer token`, res.status);
    const ttlMs = (parsed.data.expires_in ?? 60) * 1000;
    // renewed at 80 % of its life, so a token never expires on the way
    cached = { token: parsed.data.access_token, until: now() + ttlMs * 0.8 };
    return cached.token;
  }
  return {
    async token() {
      if (cached && now() < cached.until) return cached.token;
      pending ??= fetchToken().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
