// AAA on Mx2: every way a bearer token can fail (401 + RFC 6750 challenge), the client-credentials
// token endpoint's errors (RFC 6749 §5.2), external issuers through a JWKS URL or a JWKS Secret,
// and one client never seeing or touching another's contexts.
import type { webcrypto } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toKubeYaml } from '@mecqkd/common/kube-yaml';
import { expect } from 'chai';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { getJson } from '../../operator/test/e2e/support.ts';
import {
  CLIENTS,
  call,
  createBody,
  mecApp,
  type Reply,
  registerClient,
  runLcmp,
  startWorld,
  tokenFor,
  type World,
} from './support.ts';

function challenged(r: Reply, error?: string) {
  expect(r.status, r.text).to.equal(401);
  expect(r.headers.get('content-type')).to.contain('application/problem+json');
  const h = r.headers.get('www-authenticate') ?? '';
  expect(h).to.match(/^Bearer realm="mecqkd"/);
  if (error) expect(h).to.contain(`error="${error}"`);
  else expect(h).to.not.contain('error=');
}

async function token(
  key: webcrypto.CryptoKey | Uint8Array,
  claims: Record<string, unknown>,
  opts: { alg?: string; kid?: string; iss?: string; aud?: string; exp?: number } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: CLIENTS.ward.clientId, scope: 'all', ...claims })
    .setProtectedHeader({ alg: opts.alg ?? 'ES256', ...(opts.kid ? { kid: opts.kid } : {}) })
    .setIssuer(opts.iss ?? 'urn:mecqkd:lcmp')
    .setAudience(opts.aud ?? 'mecqkd-lcmp')
    .setIssuedAt(now - 60)
    .setExpirationTime(opts.exp ?? now + 300)
    .sign(key);
}

async function form(base: string, body: string, headers: Record<string, string> = {}) {
  return call(base, 'POST', '/oauth2/token', {
    raw: body,
    contentType: 'application/x-www-form-urlencoded',
    headers,
  });
}
const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
});

describe('Mx2 AAA (e2e)', function () {
  this.timeout(120_000);
  let w: World;
  let base: string;
  let signing: { key: webcrypto.CryptoKey; kid: string; publicJwk: JWK };

  before(async () => {
    w = await startWorld('lcmp-aaa', [mecApp('cardio'), mecApp('covid')]);
    base = `${w.lcmp.url}/dev_app/v1`;
    const secret = await getJson<{ data: Record<string, string> }>(w.tb, 'secret', 'lcmp-token-signing-key');
    const jwk = JSON.parse(Buffer.from(secret.data['jwk.json']!, 'base64').toString()) as JWK & {
      kid: string;
    };
    const { d: _d, ...publicJwk } = jwk;
    signing = { key: (await importJWK(jwk, 'ES256')) as webcrypto.CryptoKey, kid: jwk.kid, publicJwk };
  });
  after(async () => {
    await w?.stop();
  });

  describe('bearer tokens', () => {
    it('accepts a token from the token endpoint', async () => {
      const r = await call(base, 'GET', '/app_list', { token: w.tokens.ward });
      expect(r.status, r.text).to.equal(200);
    });

    it('401 without credentials, or with another scheme (no error code: RFC 6750 §3.1)', async () => {
      challenged(await call(base, 'GET', '/app_list'));
      challenged(await call(base, 'GET', '/app_list', { headers: basic('ward-7-tablet', 'x') }));
      challenged(await call(base, 'POST', '/app_contexts', { body: createBody('cardio') }));
      challenged(await call(base, 'DELETE', `/app_contexts/${'0'.repeat(32)}`));
    });

    it('401 invalid_token for malformed, expired, wrong-audience, wrong-issuer and forged tokens', async () => {
      const now = Math.floor(Date.now() / 1000);
      const other = await generateKeyPair('ES256');
      const cases: [string, string][] = [
        ['garbage', 'abc.def.ghi'],
        ['expired', await token(signing.key, {}, { kid: signing.kid, exp: now - 60 })],
        ['wrong audience', await token(signing.key, {}, { kid: signing.kid, aud: 'someone-else' })],
        ['wrong issuer', await token(signing.key, {}, { kid: signing.kid, iss: 'https://evil.example' })],
        ['forged (other key, same kid)', await token(other.privateKey, {}, { kid: signing.kid })],
        ['forged (other key, no kid)', await token(other.privateKey, {})],
        ['unregistered client', await token(signing.key, { client_id: 'ghost' }, { kid: signing.kid })],
      ];
      // alg=none and an HMAC token keyed with the public key: classic algorithm confusion
      const [h, p] = w.tokens.ward.split('.');
      const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
      cases.push(['alg none', none]);
      const pub = new TextEncoder().encode(JSON.stringify(signing.publicJwk));
      cases.push(['HS256 with the public key', await token(pub, {}, { alg: 'HS256', kid: signing.kid })]);
      cases.push([
        'tampered payload',
        `${h}.${Buffer.from('{"client_id":"lab-pc"}').toString('base64url')}.x`,
      ]);
      for (const [what, t] of cases) {
        const r = await call(base, 'GET', '/app_list', { token: t });
        expect(r.status, what).to.equal(401);
        challenged(r, 'invalid_token');
      }
    });
  });

  describe('token endpoint (RFC 6749 §4.4)', () => {
    const tokenBase = () => w.lcmp.url;
    const { clientId, secret } = CLIENTS.ward;

    it('issues a bearer token to a client authenticated by Basic or by form fields, never cached', async () => {
      const a = await form(tokenBase(), 'grant_type=client_credentials', basic(clientId, secret));
      expect(a.status, a.text).to.equal(200);
      expect(a.json).to.include({ token_type: 'Bearer', expires_in: 3600, scope: 'all' });
      expect(a.headers.get('cache-control')).to.equal('no-store');
      const b = await form(
        tokenBase(),
        `grant_type=client_credentials&client_id=${clientId}&client_secret=${secret}&scope=all`,
      );
      expect(b.status, b.text).to.equal(200);
      expect((await call(base, 'GET', '/app_list', { token: b.json.access_token })).status).to.equal(200);
    });

    it('answers each error of §5.2', async () => {
      const cases: [string, Record<string, string>, number, string][] = [
        ['grant_type=client_credentials', basic(clientId, 'wrong-secret'), 401, 'invalid_client'],
        ['grant_type=client_credentials', basic('nobody', secret), 401, 'invalid_client'],
        ['grant_type=client_credentials', {}, 401, 'invalid_client'],
        ['', basic(clientId, secret), 400, 'invalid_request'],
        ['grant_type=password&username=a&password=b', basic(clientId, secret), 400, 'unsupported_grant_type'],
        ['grant_type=client_credentials&scope=admin', basic(clientId, secret), 400, 'invalid_scope'],
        [
          `grant_type=client_credentials&client_id=${clientId}`,
          basic(clientId, secret),
          400,
          'invalid_request',
        ],
        [
          'grant_type=client_credentials&grant_type=client_credentials',
          basic(clientId, secret),
          400,
          'invalid_request',
        ],
      ];
      for (const [body, headers, status, error] of cases) {
        const r = await form(tokenBase(), body, headers);
        expect(r.status, `${body}: ${r.text}`).to.equal(status);
        expect(r.json.error, body).to.equal(error);
        if (status === 401) expect(r.headers.get('www-authenticate')).to.equal('Basic realm="mecqkd"');
      }
    });

    it('takes only forms and only POST', async () => {
      const j = await call(tokenBase(), 'POST', '/oauth2/token', {
        body: { grant_type: 'client_credentials' },
      });
      expect(j.status).to.equal(415);
      expect(j.headers.get('content-type')).to.contain('application/problem+json');
      const g = await call(tokenBase(), 'GET', '/oauth2/token');
      expect(g.status).to.equal(405);
      expect(g.headers.get('allow')).to.equal('POST');
    });
  });

  describe('external issuers', () => {
    it('accepts tokens of an issuer found through a JWKS URL (Keycloak-style azp)', async () => {
      const idp = await generateKeyPair('ES256', { extractable: true });
      const jwks = { keys: [{ ...(await exportJWK(idp.publicKey)), kid: 'idp-1', alg: 'ES256' }] };
      const server = createServer((_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)),
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
      const lcmp = await runLcmp(w.tb, {
        jwksUrl: url,
        issuer: 'https://idp.example/realms/mec',
        tokenEndpoint: false,
      });
      try {
        const t = await token(
          idp.privateKey,
          { client_id: undefined, azp: CLIENTS.ward.clientId },
          { kid: 'idp-1', iss: 'https://idp.example/realms/mec' },
        );
        expect((await call(`${lcmp.url}/dev_app/v1`, 'GET', '/app_list', { token: t })).status).to.equal(200);
        // the LCMP's own tokens mean nothing to it: another issuer, and no token endpoint
        challenged(
          await call(`${lcmp.url}/dev_app/v1`, 'GET', '/app_list', { token: w.tokens.ward }),
          'invalid_token',
        );
        expect(
          (
            await form(
              lcmp.url,
              'grant_type=client_credentials',
              basic(CLIENTS.ward.clientId, CLIENTS.ward.secret),
            )
          ).status,
        ).to.equal(404);
      } finally {
        await lcmp.stop();
        server.close();
      }
    });

    it('accepts tokens signed by a key of a JWKS Secret', async () => {
      const k = await generateKeyPair('ES256', { extractable: true });
      const jwks = { keys: [{ ...(await exportJWK(k.publicKey)), kid: 'offline-1' }] };
      await w.tb.kubectl(
        ['apply', '-f', '-'],
        toKubeYaml({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'trusted-jwks' },
          stringData: { 'jwks.json': JSON.stringify(jwks) },
        }),
      );
      const lcmp = await runLcmp(w.tb, { jwksSecret: 'trusted-jwks', tokenEndpoint: false });
      try {
        const t = await token(k.privateKey, {}, { kid: 'offline-1' });
        expect((await call(`${lcmp.url}/dev_app/v1`, 'GET', '/app_list', { token: t })).status).to.equal(200);
      } finally {
        await lcmp.stop();
      }
    });
  });

  describe('credentials in a namespace of their own', () => {
    it('reads client registrations and keeps its signing key only in --credentials-namespace', async () => {
      const creds = `${w.tb.namespace}-creds`;
      await w.tb.kubectl(['create', 'namespace', creds]);
      await registerClient(w.tb, CLIENTS.ward, creds);
      const lcmp = await runLcmp(w.tb, { credentialsNamespace: creds });
      try {
        const ward = await tokenFor(lcmp.url, CLIENTS.ward);
        expect((await call(`${lcmp.url}/dev_app/v1`, 'GET', '/app_list', { token: ward })).status).to.equal(
          200,
        );
        // registered beside the contexts only: unknown to this LCMP
        const lab = await form(
          lcmp.url,
          'grant_type=client_credentials',
          basic(CLIENTS.lab.clientId, CLIENTS.lab.secret),
        );
        expect(lab.status, lab.text).to.equal(401);
        await w.tb.kubectl(['get', 'secret', 'lcmp-token-signing-key', '-n', creds]);
      } finally {
        await lcmp.stop();
        await w.tb.kubectl(['delete', 'namespace', creds, '--wait=false']);
      }
    });
  });

  describe('one client, its own contexts', () => {
    it('hides and protects one client’s contexts from another (404, never 403)', async () => {
      const created = await call(base, 'POST', '/app_contexts', {
        token: w.tokens.ward,
        body: createBody('covid'),
      });
      expect(created.status, created.text).to.equal(201);
      const id = created.json.contextId;
      const lab = w.tokens.lab;
      const put = await call(base, 'PUT', `/app_contexts/${id}`, {
        token: lab,
        body: { ...createBody('covid'), associateDevAppId: 'lab-1' },
      });
      expect(put.status).to.equal(404);
      expect((await call(base, 'DELETE', `/app_contexts/${id}`, { token: lab })).status).to.equal(404);
      // the same answer as for an id that does not exist
      const missing = await call(base, 'DELETE', `/app_contexts/${'f'.repeat(32)}`, { token: lab });
      expect(missing.json.detail.replace('f'.repeat(32), id)).to.equal(
        (await call(base, 'DELETE', `/app_contexts/${id}`, { token: lab })).json.detail,
      );
      expect((await call(base, 'DELETE', `/app_contexts/${id}`, { token: w.tokens.ward })).status).to.equal(
        204,
      );
    });

    it('keeps disallowed apps out of app_list and refuses them at create with 403', async () => {
      const list = await call(base, 'GET', '/app_list?appName=covid', { token: w.tokens.lab });
      expect(list.json).to.deep.equal({ appList: [] });
      const r = await call(base, 'POST', '/app_contexts', {
        token: w.tokens.lab,
        body: { ...createBody('covid'), associateDevAppId: 'lab-1' },
      });
      expect(r.status).to.equal(403);
    });
  });
});
