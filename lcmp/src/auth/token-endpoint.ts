// OAuth 2.0 client credentials grant (RFC 6749 §4.4) for labs without an identity server: a
// registered client authenticates with its secret (HTTP Basic, §2.3.1, or form fields) and gets a
// short-lived signed JWT access token (RFC 9068 claims). Errors are RFC 6749 §5.2 JSON.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ClientRegistry } from './registry.ts';
import { verifySecret } from './secret-hash.ts';
import { SIGNING_ALG, type SigningKey } from './signing-key.ts';

export interface TokenDeps {
  registry: ClientRegistry;
  key: SigningKey;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

export interface TokenAnswer {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

export const SCOPE = 'all';
// compared against when the client is unknown, so that unknown and known clients take equally long
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

function oauthError(status: number, error: string, description: string, extra: Record<string, string> = {}) {
  return { status, body: { error, error_description: description }, headers: { ...NO_STORE, ...extra } };
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined | null {
  if (!header) return undefined;
  const m = header.match(/^Basic[ ]+([A-Za-z0-9+/]+=*)$/i);
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  try {
    const form = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: form(decoded.slice(0, i)), secret: form(decoded.slice(i + 1)) };
  } catch {
    return null;
  }
}

export async function issueToken(
  deps: TokenDeps,
  form: URLSearchParams,
  authorization: string | undefined,
): Promise<TokenAnswer> {
  const invalidClient = oauthError(401, 'invalid_client', 'client authentication failed', {
    'www-authenticate': 'Basic realm="mecqkd"',
  });
  for (const [k] of form) {
    if (form.getAll(k).length > 1) return oauthError(400, 'invalid_request', `parameter ${k} is repeated`);
  }
  const basic = basicCredentials(authorization);
  if (basic === null) return invalidClient;
  const bodyId = form.get('client_id') ?? undefined;
  const bodySecret = form.get('client_secret') ?? undefined;
  if (basic && (bodyId !== undefined || bodySecret !== undefined))
    return oauthError(400, 'invalid_request', 'use one client authentication method, not two');
  const id = basic?.id ?? bodyId;
  const secret = basic?.secret ?? bodySecret;
  const grant = form.get('grant_type');
  if (!grant) return oauthError(400, 'invalid_request', 'grant_type is required');
  if (grant !== 'client_credentials')
    return oauthError(400, 'unsupported_grant_type', 'only client_credentials is supported');
  if (id === undefined || secret === undefined) return invalidClient;
  const client = deps.registry.get(id);
  const ok = await verifySecret(secret, client?.secretHash ?? DUMMY_HASH);
  if (!client?.secretHash || !ok) return invalidClient;
  const requested = (form.get('scope') ?? SCOPE).split(' ').filter(Boolean);
  if (requested.some((s) => s !== SCOPE))
    return oauthError(400, 'invalid_scope', `the only scope is "${SCOPE}"`);
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ client_id: client.clientId, scope: SCOPE })
    .setProtectedHeader({ alg: SIGNING_ALG, kid: deps.key.kid, typ: 'at+jwt' })
    .setIssuer(deps.issuer)
    .setAudience(deps.audience)
    .setSubject(client.clientId)
    .setIssuedAt(now)
    .setExpirationTime(now + deps.ttlSeconds)
    .setJti(randomUUID())
    .sign(deps.key.privateKey);
  return {
    status: 200,
    body: { access_token: token, token_type: 'Bearer', expires_in: deps.ttlSeconds, scope: SCOPE },
    headers: NO_STORE,
  };
}
