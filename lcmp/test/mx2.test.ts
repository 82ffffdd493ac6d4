// Every Mx2 operation and error against the LCMP in front of the real operator: filters, the 201
// body and its vendor extension, PUT/DELETE rules, admission outcomes (403, 503) leaving no CR
// behind, ProblemDetails for 404/405/413/415, the OpenAPI document, request ids and metrics.
import type { AppContext, MecHost } from '@mecqkd/crds';
import { createKubeClient } from '@mecqkd/kube/kube-client';
import { expect } from 'chai';
import { getJson } from '../../operator/test/e2e/support.ts';
import { clientDelete } from '../src/mx2/routes.ts';
import { violations } from './oas.ts';
import {
  call,
  createBody,
  eventually,
  mecApp,
  type Reply,
  runLcmp,
  startWorld,
  type World,
} from './support.ts';

const catalog = [
  mecApp('cardio', { appSoftVersion: '1.0', appCharcs: { serviceCont: 1, memory: 256 } }),
  mecApp('covid', { appSoftVersion: '2.0', appCharcs: { serviceCont: 0 } }),
  mecApp('france-only', { appLocation: [{ countryCode: 'FR' }] }),
  mecApp('mars', {}, { hostSelector: { zone: 'mars' } }),
];

function isProblem(r: Reply, status: number, field?: string) {
  expect(r.status, r.text).to.equal(status);
  expect(r.headers.get('content-type')).to.contain('application/problem+json');
  expect(
    Object.keys(r.json).every((k) => ['type', 'title', 'status', 'detail', 'instance', 'fields'].includes(k)),
    r.text,
  ).to.be.true;
  expect(r.json).to.include({ status });
  expect(r.json.title).to.be.a('string');
  expect(r.json.detail)
    .to.be.a('string')
    .and.not.match(/\n\s+at /);
  if (field) expect(r.json.fields, r.text).to.include(field);
}

const HOLD = JSON.stringify([{ op: 'add', path: '/metadata/finalizers/-', value: 'test.mecqkd.io/hold' }]);

const names = (r: Reply) =>
  r.json.appList.map((a: { appInfo: { appName: string } }) => a.appInfo.appName).sort();

describe('Mx2 operations and errors (e2e)', function () {
  this.timeout(120_000);
  let w: World;
  let base: string;
  let token: string;
  const get = (path: string, t = token) => call(base, 'GET', path, { token: t });
  const post = (path: string, body: unknown, t = token) => call(base, 'POST', path, { token: t, body });
  const crs = async () => (await getJson<{ items: AppContext[] }>(w.tb, 'appcontexts')).items;

  before(async () => {
    w = await startWorld('lcmp-mx2', catalog);
    base = `${w.lcmp.url}/dev_app/v1`;
    token = w.tokens.ward;
  });
  after(async () => {
    await w?.stop();
  });

  describe('GET /app_list', () => {
    it('ORs values within a parameter, in both spellings, and ANDs parameters', async () => {
      expect(names(await get('/app_list?appName=cardio&appName=covid'))).to.deep.equal(['cardio', 'covid']);
      expect(names(await get('/app_list?appName=cardio,covid'))).to.deep.equal(['cardio', 'covid']);
      expect(names(await get('/app_list?appName=cardio,covid&appSoftVersion=2.0'))).to.deep.equal(['covid']);
      expect(names(await get('/app_list?serviceCont=1'))).to.deep.equal(['cardio']);
      expect(names(await get('/app_list?appProvider=hospital-it&vendorId=mecqkd'))).to.have.length(4);
      const none = await get('/app_list?vendorId=someone-else');
      expect(none.status).to.equal(200);
      expect(none.json).to.deep.equal({ appList: [] });
    });

    it('lists the catalog entry field by field, with the vendor extension', async () => {
      const r = await get('/app_list?appName=cardio');
      expect(violations('ApplicationList', r.json)).to.deep.equal([]);
      expect(r.json.appList[0]).to.deep.equal({
        appInfo: {
          appDId: 'did-cardio',
          appName: 'cardio',
          appProvider: 'hospital-it',
          appSoftVersion: '1.0',
          appDVersion: '1',
          appDescription: 'cardio model',
          appCharcs: { serviceCont: 1, memory: 256 },
        },
        vendorSpecificExt: { vendorId: 'mecqkd' },
      });
    });

    it('refuses bad query values with 400 naming the parameter', async () => {
      isProblem(await get('/app_list?serviceCont=2'), 400, 'serviceCont.0');
      isProblem(await get(`/app_list?appName=${'x'.repeat(33)}`), 400, 'appName.0');
      isProblem(await get('/app_list?appname=cardio'), 400);
    });

    it('shows a client only the apps it may use', async () => {
      expect(names(await get('/app_list', w.tokens.lab))).to.deep.equal(['cardio']);
    });
  });

  describe('POST /app_contexts', () => {
    it('creates a placed context: 201, Location, every attribute echoed, the host QKD identity', async () => {
      const location = { countryCode: 'IT' };
      const body = createBody(
        'cardio',
        { callbackReference: 'http://127.0.0.1:9/notify', appLocationUpdates: false },
        { appSoftVersion: '1.0', appDescription: 'risk', userAppInstanceInfo: [{ appLocation: location }] },
      );
      const r = await post('/app_contexts', body);
      expect(r.status, r.text).to.equal(201);
      expect(violations('AppContext', r.json)).to.deep.equal([]);
      const id = r.json.contextId;
      expect(r.headers.get('location')).to.equal(`${base}/app_contexts/${id}`);
      const cr = (await crs()).find((c) => c.metadata.name === id)!;
      const host = await getJson<MecHost>(w.tb, 'mechost', cr.status!.host!);
      expect(r.json).to.deep.equal({
        ...body,
        contextId: id,
        appInfo: {
          ...body.appInfo,
          appDId: 'did-cardio',
          userAppInstanceInfo: [
            {
              appLocation: location,
              appInstanceId: cr.status!.appInstanceId,
              referenceURI: cr.status!.referenceURI,
              vendorSpecificExt: {
                vendorId: 'mecqkd',
                hostSaeId: host.spec.kme.saeId,
                hostKmeId: host.spec.kme.kmeId,
                // the CRD's defaults: the MecApp declares no key use of its own
                invocationsPerKey: 1,
                expectedInvocationsPerSecond: 1,
              },
            },
          ],
        },
      });
      expect(cr.metadata.finalizers).to.include.members([
        'mecqkd.io/action-cleanup',
        'mecqkd.io/lcmp-notify',
      ]);
      expect(cr.spec).to.include({ appName: 'cardio', associateDevAppId: 'ward-7' });
      expect(cr.spec.client).to.deep.equal({ kmeId: w.tb.clientKmeId, saeId: w.tb.clientSae.id });
      expect(cr.spec.appLocation).to.deep.equal(location);
    });

    it('refuses invalid bodies with 400 naming the field', async () => {
      const cases: [unknown, string][] = [
        [createBody('cardio', { contextId: 'abc' }), 'contextId'],
        [
          createBody('cardio', { appLocationUpdates: true, appAutoInstantiation: true }),
          'appAutoInstantiation',
        ],
        [createBody('cardio', { associateDevAppId: 'x'.repeat(33) }), 'associateDevAppId'],
        [createBody('cardio', {}, { userAppInstanceInfo: [] }), 'appInfo.userAppInstanceInfo'],
        [createBody('cardio', {}, { userAppInstanceInfo: [{}, {}] }), 'appInfo.userAppInstanceInfo'],
        [createBody('cardio', {}, { userAppInstanceInfo: undefined }), 'appInfo.userAppInstanceInfo'],
        [
          createBody('cardio', {}, { userAppInstanceInfo: [{ referenceURI: 'http://x.example/' }] }),
          'appInfo.userAppInstanceInfo.0.referenceURI',
        ],
        [
          createBody('cardio', {}, { userAppInstanceInfo: [{ appLocation: { countryCode: 'it' } }] }),
          'appInfo.userAppInstanceInfo.0.appLocation.countryCode',
        ],
        [
          createBody('cardio', {}, { userAppInstanceInfo: [{ appLocation: { civicAddressElement: [] } }] }),
          'appInfo.userAppInstanceInfo.0.appLocation.countryCode',
        ],
        [
          createBody(
            'cardio',
            {},
            {
              userAppInstanceInfo: [
                {
                  appLocation: {
                    area: {
                      coordinates: [
                        [
                          [9, 45],
                          [9.1, 45],
                          [9.1, 45.1],
                          [9, 45.2],
                        ],
                      ],
                    },
                  },
                },
              ],
            },
          ),
          'appInfo.userAppInstanceInfo.0.appLocation.area.coordinates.0',
        ],
        [
          createBody(
            'cardio',
            {},
            {
              userAppInstanceInfo: [
                {
                  appLocation: {
                    countryCode: 'IT',
                    civicAddressElement: [{ caType: 1, caValue: 'x' }],
                    area: {
                      coordinates: [
                        [
                          [9, 45],
                          [9.1, 45],
                          [9.1, 45.1],
                          [9, 45],
                        ],
                      ],
                    },
                  },
                },
              ],
            },
          ),
          'appInfo.userAppInstanceInfo.0.appLocation.civicAddressElement',
        ],
        [createBody('cardio', { callbackReference: 'not a uri' }), 'callbackReference'],
        [{ associateDevAppId: 'ward-7' }, 'appInfo'],
      ];
      for (const [body, field] of cases) isProblem(await post('/app_contexts', body), 400, field);
    });

    it('accepts an RFC 7946 polygon with or without its type', async () => {
      // the hosts get an area inside the one asked for: the operator places by location
      const hostArea = {
        type: 'Polygon',
        coordinates: [
          [
            [9.01, 45.01],
            [9.02, 45.01],
            [9.02, 45.02],
            [9.01, 45.01],
          ],
        ],
      };
      for (const h of ['host-1', 'host-2']) {
        const patch = { spec: { location: { countryCode: 'IT', area: hostArea } } };
        await w.tb.kubectl(['patch', 'mechost', h, '--type', 'merge', '-p', JSON.stringify(patch)]);
      }
      const area = {
        coordinates: [
          [
            [9, 45],
            [9.1, 45],
            [9.1, 45.1],
            [9, 45.1],
            [9, 45],
          ],
        ],
      };
      const r = await post(
        '/app_contexts',
        createBody('cardio', {}, { userAppInstanceInfo: [{ appLocation: { area } }] }),
      );
      expect(r.status, r.text).to.equal(201);
      expect(r.json.appInfo.userAppInstanceInfo[0].appLocation).to.deep.equal({ area });
      const cr = (await crs()).find((c) => c.metadata.name === r.json.contextId)!;
      expect(cr.spec.appLocation).to.deep.equal({ area: { type: 'Polygon', ...area } });
    });

    it('refuses a callbackReference to an internal address (SSRF) with 400', async () => {
      const r = await post(
        '/app_contexts',
        createBody('cardio', { callbackReference: 'http://169.254.169.254/latest' }),
      );
      isProblem(r, 400, 'callbackReference');
      const api = new URL(w.lcmp.kube.server);
      isProblem(
        await post(
          '/app_contexts',
          createBody('cardio', { callbackReference: `${api.origin}/api/v1/secrets` }),
        ),
        400,
        'callbackReference',
      );
    });

    it('is 403 for apps and device apps the client may not use, and for on-boarding', async () => {
      isProblem(
        await post('/app_contexts', { ...createBody('covid'), associateDevAppId: 'lab-1' }, w.tokens.lab),
        403,
      );
      isProblem(await post('/app_contexts', createBody('cardio', { associateDevAppId: 'ward-9' })), 403);
      const unknown = createBody('unknown-app', {}, { appPackageSource: 'https://apps.example/pkg.zip' });
      const r = await post('/app_contexts', unknown);
      isProblem(r, 403);
      expect(r.json.detail).to.contain('appPackageSource');
    });

    it('is 403 when the operator rejects the context, and leaves no CR behind', async () => {
      const before = (await crs()).length;
      const r = await post(
        '/app_contexts',
        createBody('france-only', {}, { userAppInstanceInfo: [{ appLocation: { countryCode: 'DE' } }] }),
      );
      isProblem(r, 403);
      expect(r.json.detail).to.contain('LocationNotOffered');
      await eventually('the rejected CR is gone', async () => (await crs()).length === before);
    });

    it('is 503 with Retry-After when no host takes it in time, and leaves no CR behind', async () => {
      const quick = await runLcmp(w.tb, { placeTimeout: 1, retryAfter: 7 });
      try {
        const before = (await crs()).length;
        const r = await call(`${quick.url}/dev_app/v1`, 'POST', '/app_contexts', {
          token,
          body: createBody('mars'),
        });
        isProblem(r, 503);
        expect(r.headers.get('retry-after')).to.equal('7');
        await eventually('the unplaced CR is gone', async () => (await crs()).length === before);
      } finally {
        await quick.stop();
      }
    });
  });

  describe('PUT and DELETE /app_contexts/{contextId}', () => {
    let id: string;
    const body = createBody('cardio', { callbackReference: 'http://127.0.0.1:9/a' });
    before(async () => {
      id = (await post('/app_contexts', body)).json.contextId;
    });

    it('changes callbackReference and appLocation: 204, and the CR follows', async () => {
      const r = await call(base, 'PUT', `/app_contexts/${id}`, {
        token,
        body: {
          ...body,
          contextId: id,
          callbackReference: 'http://127.0.0.1:9/b',
          appInfo: { ...body.appInfo, userAppInstanceInfo: [{ appLocation: { countryCode: 'IT' } }] },
        },
      });
      expect(r.status, r.text).to.equal(204);
      const cr = await eventually('spec updated', async () => {
        const c = (await crs()).find((x) => x.metadata.name === id);
        return c?.spec.callbackReference === 'http://127.0.0.1:9/b' && c;
      });
      expect(cr.spec.appLocation).to.deep.equal({ countryCode: 'IT' });
    });

    it('refuses a change of any other attribute with 400 naming it', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ ...body, associateDevAppId: 'MyNewWornderfulDevAppId' }, 'associateDevAppId'],
        [{ ...body, appInfo: { ...body.appInfo, appName: 'covid' } }, 'appInfo.appName'],
        [{ ...body, appInfo: { ...body.appInfo, appDVersion: '2' } }, 'appInfo.appDVersion'],
        [{ ...body, appLocationUpdates: true }, 'appLocationUpdates'],
        [{ ...body, callbackReference: 'http://[fe80::1]/x' }, 'callbackReference'],
      ];
      for (const [b, field] of cases)
        isProblem(await call(base, 'PUT', `/app_contexts/${id}`, { token, body: b }), 400, field);
    });

    it('is 404 for an unknown context and for another client’s', async () => {
      isProblem(await call(base, 'PUT', `/app_contexts/${'0'.repeat(32)}`, { token, body }), 404);
      isProblem(await call(base, 'PUT', `/app_contexts/${id}`, { token: w.tokens.lab, body }), 404);
      isProblem(await call(base, 'DELETE', `/app_contexts/${id}`, { token: w.tokens.lab }), 404);
    });

    it('deletes: 204, the CR goes, a second delete is 404', async () => {
      expect((await call(base, 'DELETE', `/app_contexts/${id}`, { token })).status).to.equal(204);
      await eventually('CR gone', async () => !(await crs()).some((c) => c.metadata.name === id));
      isProblem(await call(base, 'DELETE', `/app_contexts/${id}`, { token }), 404);
    });

    it('a context already being deleted is gone for its client: a second delete is 404, whatever the cache says', async () => {
      // a finalizer of the test's own holds the CR in deletion, as the operator's does while it cleans up
      const held = (await post('/app_contexts', body)).json.contextId as string;
      await w.tb.kubectl(['patch', 'appcontext', held, '--type=json', '-p', HOLD]);
      expect((await call(base, 'DELETE', `/app_contexts/${held}`, { token })).status).to.equal(204);
      // the deletion, read from the apiserver itself, as a cache that has not seen it yet would not
      const kube = await createKubeClient({ kubeconfigPath: w.tb.cp.kubeconfigPath });
      expect(await clientDelete({ kube, namespace: w.tb.namespace }, held)).to.equal(false);
      isProblem(await call(base, 'DELETE', `/app_contexts/${held}`, { token }), 404);
      const moved = { ...body, contextId: held, callbackReference: 'http://127.0.0.1:9/b' };
      isProblem(await call(base, 'PUT', `/app_contexts/${held}`, { token, body: moved }), 404);
      await w.tb.kubectl([
        'patch',
        'appcontext',
        held,
        '--type=merge',
        '-p',
        '{"metadata":{"finalizers":null}}',
      ]);
      await eventually('CR gone', async () => !(await crs()).some((c) => c.metadata.name === held));
    });
  });

  describe('POST /obtain_app_loc_availability', () => {
    it('answers the locations of Ready hosts able to run the app, creating nothing', async () => {
      const before = (await crs()).length;
      const req = {
        associateDevAppId: 'ward-7',
        appInfo: { appName: 'cardio', appProvider: 'hospital-it', appDVersion: '1' },
      };
      const r = await post('/obtain_app_loc_availability', req);
      expect(r.status, r.text).to.equal(200);
      // both hosts are in one place (whatever earlier tests set): one location
      const hosts = (await getJson<{ items: MecHost[] }>(w.tb, 'mechosts')).items;
      expect(r.json).to.deep.equal({
        ...req,
        appInfo: { ...req.appInfo, availableLocations: [{ appLocation: hosts[0]!.spec.location }] },
      });
      const mars = await post('/obtain_app_loc_availability', {
        ...req,
        appInfo: { ...req.appInfo, appName: 'mars' },
      });
      expect(mars.json.appInfo.availableLocations).to.deep.equal([]);
      expect((await crs()).length).to.equal(before);
    });

    it('is 400 for a bad body and 403 for a device app the client may not act for', async () => {
      isProblem(
        await post('/obtain_app_loc_availability', { associateDevAppId: 'ward-7', appInfo: {} }),
        400,
        'appInfo.appName',
      );
      isProblem(
        await post('/obtain_app_loc_availability', {
          associateDevAppId: 'ward-9',
          appInfo: { appName: 'cardio', appProvider: 'hospital-it', appDVersion: '1' },
        }),
        403,
      );
    });
  });

  describe('HTTP errors as ProblemDetails', () => {
    it('404 for unknown paths, 405 with Allow for undefined methods', async () => {
      isProblem(await get('/nothing/here'), 404);
      isProblem(await call(w.lcmp.url, 'GET', '/', {}), 404);
      const r = await get('/app_contexts');
      isProblem(r, 405);
      expect(r.headers.get('allow')).to.equal('POST');
      const p = await call(base, 'PATCH', `/app_contexts/${'0'.repeat(32)}`, { token, body: {} });
      isProblem(p, 405);
      expect(p.headers.get('allow')).to.equal('PUT, DELETE');
      expect((await call(base, 'DELETE', '/app_list', { token })).headers.get('allow')).to.equal('GET, HEAD');
    });

    it('415 for a body that is not JSON, 400 for broken JSON, 413 for an oversize body', async () => {
      const r = await call(base, 'POST', '/app_contexts', {
        token,
        raw: 'associateDevAppId=x',
        contentType: 'text/plain',
      });
      isProblem(r, 415);
      isProblem(
        await call(base, 'POST', '/app_contexts', { token, raw: '<x/>', contentType: 'application/xml' }),
        415,
      );
      isProblem(
        await call(base, 'POST', '/app_contexts', { token, raw: '{"a":', contentType: 'application/json' }),
        400,
      );
      isProblem(
        await call(base, 'POST', '/app_contexts', { token, raw: '', contentType: 'application/json' }),
        400,
      );
      const huge = JSON.stringify(createBody('cardio', {}, { appDescription: 'x'.repeat(70_000) }));
      isProblem(
        await call(base, 'POST', '/app_contexts', { token, raw: huge, contentType: 'application/json' }),
        413,
      );
    });

    it('gives every response a request id, reusing a sane one from the client', async () => {
      const r = await call(base, 'GET', '/app_list', { token, headers: { 'x-request-id': 'req-42' } });
      expect(r.headers.get('x-request-id')).to.equal('req-42');
      const bad = await call(base, 'GET', '/nowhere', {
        token,
        headers: { 'x-request-id': 'x'.repeat(100) },
      });
      expect(bad.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
      expect(bad.json.instance).to.equal(`urn:uuid:${bad.headers.get('x-request-id')}`);
    });
  });

  describe('OpenAPI, probes and metrics', () => {
    it('serves the official OpenAPI with this apiRoot', async () => {
      const r = await call(w.lcmp.url, 'GET', '/openapi/dev_app.json');
      expect(r.status).to.equal(200);
      expect(r.json.info).to.include({
        title: 'ETSI GS MEC 016 Device application interface',
        version: '2.2.1',
      });
      expect(r.json.servers).to.deep.equal([{ url: base }]);
      expect(Object.keys(r.json.paths)).to.have.members([
        '/app_list',
        '/app_contexts',
        '/app_contexts/{contextId}',
        '/obtain_app_loc_availability',
      ]);
    });

    it('answers /healthz, /readyz and /metrics with requests and latency by operation and status', async () => {
      const h = `http://127.0.0.1:${w.lcmp.health.port}`;
      expect((await fetch(`${h}/healthz`)).status).to.equal(200);
      expect((await fetch(`${h}/readyz`)).status).to.equal(200);
      const text = await (await fetch(`${h}/metrics`)).text();
      expect(text).to.match(/mecqkd_lcmp_requests_total\{operation="create_context",status="201"\} [1-9]/);
      expect(text).to.match(/mecqkd_lcmp_requests_total\{operation="app_list",status="400"\} [1-9]/);
      expect(text).to.match(
        /mecqkd_lcmp_request_duration_seconds_bucket\{le="0.1",operation="create_context",status="201"\}/,
      );
      expect(text).to.contain('mecqkd_lcmp_notifications_delivered_total');
    });
  });
});
