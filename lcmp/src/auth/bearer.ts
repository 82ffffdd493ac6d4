// Who is calling: `Authorization: Bearer <JWT>` verified, then mapped to the client's registration.
// Failures are 401 with the RFC 6750 §3 challenge; the token itself is never logged or echoed.
import { fail } from '../problem.ts';
import type { ClientRegistration, ClientRegistry } from './registry.ts';
import { InvalidToken, type Verify } from './verifier.ts';

export const REALM = 'mecqkd';

const quoted = (s: string) => s.replace(/["\\]/g, '');

function unauthorized(detail: string, error?: string) {
  const challenge = error
    ? `Bearer realm="${REALM}", error="${error}", error_description="${quoted(detail)}"`
    : `Bearer realm="${REALM}"`;
  return fail(401, detail, { 'www-authenticate': challenge });
}

export async function authenticate(
  header: string | undefined,
  verify: Verify,
  registry: ClientRegistry,
): Promise<ClientRegistration> {
  const m = header?.match(/^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)$/i);
  if (!m) throw unauthorized('a bearer token (RFC 6750) is required');
  let clientId: string;
  try {
    clientId = (await verify(m[1]!)).clientId;
  } catch (err) {
    if (err instanceof InvalidToken) throw unauthorized(err.message, 'invalid_token');
    throw err;
  }
  const client = registry.get(clientId);
  if (!client) throw unauthorized('the token names a client that is not registered', 'invalid_token');
  return client;
}
