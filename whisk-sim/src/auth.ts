// Basic auth `UUID:KEY` with the controller's 401 answers. Every request of a client carries the same
// header, so headers that passed the constant-time check are remembered (only valid ones, and a
// bounded number, since spacing and case make many spellings), and the warm path skips decoding them.
import { sameSecret } from '@mecqkd/common/same-secret';
import type { NamespaceConfig } from './config.ts';
import { HttpError, messages } from './errors.ts';

const MAX_REMEMBERED = 64;

const unauthorized = { 'www-authenticate': 'Basic realm="OpenWhisk secure realm"' };

function check(header: string | undefined, namespaces: NamespaceConfig[]): NamespaceConfig {
  const match = header?.match(/^Basic\s+(\S+)$/i);
  if (!match) throw new HttpError(401, messages.authMissing, unauthorized);
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const uuid = decoded.slice(0, colon);
  const key = decoded.slice(colon + 1);
  const found = colon > 0 ? namespaces.find((ns) => ns.uuid === uuid) : undefined;
  if (!found || !sameSecret(found.key, key)) throw new HttpError(401, messages.authInvalid, unauthorized);
  return found;
}

/** The namespace whose credentials the Authorization header carries, or a 401 HttpError. */
export function createAuthenticator(namespaces: NamespaceConfig[]) {
  const valid = new Map<string, NamespaceConfig>();
  return (header: string | undefined): NamespaceConfig => {
    const known = header === undefined ? undefined : valid.get(header);
    if (known) return known;
    const found = check(header, namespaces);
    if (valid.size >= MAX_REMEMBERED) valid.clear();
    valid.set(header as string, found);
    return found;
  };
}
