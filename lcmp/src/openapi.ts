// The official MEC 016 OpenAPI as the LCMP serves it: unchanged but for `servers` (this LCMP's
// apiRoot) and the bearer security the LCMP requires (V2.2.1 declares none, D11).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const OPENAPI_FILE = join(import.meta.dirname, '..', 'openapi', 'UEAppInterfaceApi.json');

export function openapiDocument(tokenUrl?: string): (apiRoot: string) => unknown {
  const official = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Record<string, unknown> & {
    components: Record<string, unknown>;
  };
  return (apiRoot) => ({
    ...official,
    servers: [{ url: `${apiRoot}/dev_app/v1` }],
    security: [{ bearer: [] }],
    components: {
      ...official.components,
      securitySchemes: {
        bearer: {
          type: 'oauth2',
          description: 'JWT access tokens (RFC 6750, RFC 9068) from the configured issuer',
          flows: {
            clientCredentials: { tokenUrl: tokenUrl ?? `${apiRoot}/oauth2/token`, scopes: { all: 'Mx2' } },
          },
        },
      },
    },
  });
}
