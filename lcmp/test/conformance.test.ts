// The ETSI MEC 016 conformance test purposes (ETSI GS MEC-DEC 032-3, MEC016/MEO: UEAPPS, UEAPPCTX,
// UEAPPLOC) rewritten as our own tests against the LCMP in front of the real operator; response
// bodies are checked against the official OpenAPI schemas.
import { expect } from 'chai';
import { violations } from './oas.ts';
import { call, type Reply, startWorld, type World } from './support.ts';

const LIST_APP = 'MyWornderfulApp';
const CREATE_INFO = { appName: 'MyNewWornderfulApp', appProvider: 'TTF012', appDVersion: 'v0.0.1' };
const LOC_INFO = { appName: 'MyNewWornderfulApp', appProvider: 'TF012', appDVersion: 'v0.0.1' };

const catalog = [
  { name: 'my-wornderful-app', info: { appName: LIST_APP } },
  { name: 'my-new-wornderful-app', info: CREATE_INFO },
  { name: 'my-new-wornderful-app-tf', info: LOC_INFO },
].map(({ name, info }) => ({
  apiVersion: 'mecqkd.io/v1alpha1',
  kind: 'MecApp',
  metadata: { name },
  spec: {
    appInfo: {
      appDId: `did-${name}`,
      appProvider: 'hospital-it',
      appSoftVersion: '1',
      appDVersion: '1',
      appDescription: 'conformance',
      ...info,
    },
    action: { code: 'function main() { return {}; }' },
  },
}));

function isProblem(r: Reply, status: number) {
  expect(r.status, r.text).to.equal(status);
  expect(r.headers.get('content-type')).to.contain('application/problem+json');
  expect(r.json).to.include({ status });
  expect(violations('ProblemDetails', r.json)).to.deep.equal([]);
}

describe('ETSI MEC 016 conformance test purposes (e2e)', function () {
  this.timeout(120_000);
  let w: World;
  let base: string;
  let token: string;
  const get = (path: string) => call(base, 'GET', path, { token });

  before(async () => {
    w = await startWorld('lcmp-conf', catalog);
    base = `${w.lcmp.url}/dev_app/v1`;
    token = w.tokens.ward;
  });
  after(async () => {
    await w?.stop();
  });

  describe('UEAPPS (application list)', () => {
    it('TP_MEC_MEC016_MEO_UEAPPS_001_OK: the list is a valid ApplicationList with the app', async () => {
      const r = await get('/app_list');
      expect(r.status).to.equal(200);
      expect(r.headers.get('content-type')).to.contain('application/json');
      expect(violations('ApplicationList', r.json)).to.deep.equal([]);
      expect(r.json.appList.map((a: { appInfo: { appName: string } }) => a.appInfo.appName)).to.include(
        LIST_APP,
      );
    });

    it('TP_MEC_MEC016_MEO_UEAPPS_001_NF: an unknown resource is 404', async () => {
      isProblem(await get('/app_list_error'), 404);
    });

    it('TP_MEC_MEC016_MEO_UEAPPS_002_OK: filtered by appName', async () => {
      const r = await get(`/app_list?appName=${LIST_APP}`);
      expect(r.status).to.equal(200);
      expect(violations('ApplicationList', r.json)).to.deep.equal([]);
      expect(r.json.appList).to.have.length(1);
      expect(r.json.appList[0].appInfo.appName).to.equal(LIST_APP);
    });

    it('TP_MEC_MEC016_MEO_UEAPPS_002_BR: an unknown query parameter is 400', async () => {
      const r = await get(`/app_list?app=${LIST_APP}`);
      isProblem(r, 400);
      expect(r.json.detail).to.contain('app');
    });
  });

  describe('UEAPPCTX (application contexts)', () => {
    let contextId: string;
    const createReq = {
      associateDevAppId: 'MyNewWornderfulDevAppId',
      appInfo: { ...CREATE_INFO, userAppInstanceInfo: [{}] },
    };

    it('TP_MEC_MEC016_MEO_UEAPPCTX_001_OK: create answers 201, a valid AppContext and Location', async () => {
      const r = await call(base, 'POST', '/app_contexts', { token, body: createReq });
      expect(r.status, r.text).to.equal(201);
      expect(r.headers.get('content-type')).to.contain('application/json');
      expect(violations('AppContext', r.json)).to.deep.equal([]);
      expect(r.json.appInfo.appName).to.equal(CREATE_INFO.appName);
      contextId = r.json.contextId;
      expect(contextId).to.match(/^[0-9a-f]{32}$/);
      expect(r.headers.get('location')).to.equal(`${base}/app_contexts/${contextId}`);
    });

    it('TP_MEC_MEC016_MEO_UEAPPCTX_001_BR: create without appName is 400', async () => {
      const { appName: _n, ...rest } = createReq.appInfo;
      const r = await call(base, 'POST', '/app_contexts', {
        token,
        body: { ...createReq, appInfo: { ...rest, app: CREATE_INFO.appName } },
      });
      isProblem(r, 400);
      expect(r.json.fields).to.include('appInfo.appName');
    });

    it('TP_MEC_MEC016_MEO_UEAPPCTX_001_NF: create on an unknown resource is 404', async () => {
      isProblem(await call(base, 'POST', '/app_contexts_error', { token, body: createReq }), 404);
    });

    it('TP_MEC_MEC016_MEO_UEAPPCTX_002_OK: update of the callback answers 204', async () => {
      const r = await call(base, 'PUT', `/app_contexts/${contextId}`, {
        token,
        body: { ...createReq, contextId: '1', callbackReference: 'http://127.0.0.1/callbackuri' },
      });
      expect(r.status, r.text).to.equal(204);
      expect(r.text).to.equal('');
    });

    it('TP_MEC_MEC016_MEO_UEAPPCTX_002_BR: update with the V1 attribute name is 400', async () => {
      const { associateDevAppId: _a, ...rest } = createReq;
      const r = await call(base, 'PUT', `/app_contexts/${contextId}`, {
        token,
        body: { ...rest, contextId, associateUeAppId: 'MyNewWornderfulDevAppId' },
      });
      isProblem(r, 400);
      expect(r.json.fields).to.include('associateDevAppId');
    });

    it('TP_MEC_MEC016_MEO_UEAPPCTX_002_NF: update on an unknown resource is 404', async () => {
      isProblem(await call(base, 'PUT', `/app_contexts_error/${contextId}`, { token, body: createReq }), 404);
    });

    it('TP_MEC_MEC016_MEO_UEAPPCTX_003_OK: delete answers 204', async () => {
      const r = await call(base, 'DELETE', `/app_contexts/${contextId}`, { token });
      expect(r.status, r.text).to.equal(204);
    });

    it('TP_MEC_MEC016_MEO_UEAPPCTX_003_NF: delete of an unknown context is 404', async () => {
      isProblem(await call(base, 'DELETE', '/app_contexts/NON_EXISTING_CONTEXT_ID', { token }), 404);
    });
  });

  describe('UEAPPLOC (location availability)', () => {
    const locReq = { associateDevAppId: 'MyNewWornderfulDevAppId', appInfo: LOC_INFO };

    it('TP_MEC_MEC016_MEO_UEAPPLOC_001_OK: answers 200 with a valid body echoing appName', async () => {
      const r = await call(base, 'POST', '/obtain_app_loc_availability', { token, body: locReq });
      expect(r.status, r.text).to.equal(200);
      expect(violations('ApplicationLocationAvailability', r.json)).to.deep.equal([]);
      expect(r.json.appInfo.appName).to.equal(LOC_INFO.appName);
    });

    it('TP_MEC_MEC016_MEO_UEAPPLOC_001_BR: without appName is 400', async () => {
      const { appName: _n, ...rest } = LOC_INFO;
      const r = await call(base, 'POST', '/obtain_app_loc_availability', {
        token,
        body: { ...locReq, appInfo: { ...rest, app: LOC_INFO.appName } },
      });
      isProblem(r, 400);
    });

    it('TP_MEC_MEC016_MEO_UEAPPCTX_001_NF (UEAPPLOC file): an unknown resource is 404', async () => {
      isProblem(await call(base, 'POST', '/obtain_app_loc_availability_error', { token, body: locReq }), 404);
    });
  });
});
