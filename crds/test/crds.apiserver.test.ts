// The CRDs on a real kube-apiserver, driven by the project-built kubectl.

import { toKubeYaml } from '@mecqkd/common/kube-yaml';
import type { ControlPlane } from '@mecqkd/localenv/control-plane';
import { sharedControlPlane } from '@mecqkd/localenv/shared';
import { expect } from 'chai';
import { crdName } from '../src/crd.ts';
import { KINDS } from '../src/resources.ts';
import { example, INVALID, MANIFEST_DIR } from './fixtures.ts';

describe('CRDs on the apiserver', function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  const ns = `crds-${Date.now().toString(36)}`;
  const kubectl = async (args: string[], input?: string) => {
    const r = await cp.kubectl(['-n', ns, ...args], { input });
    return r;
  };
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(args, input);
    expect(r.code, `kubectl ${args.join(' ')}: ${r.stderr}`).to.equal(0);
    return r.stdout;
  };

  before(async () => {
    cp = await sharedControlPlane();
    const r = await cp.kubectl(['create', 'namespace', ns]);
    expect(r.code, r.stderr).to.equal(0);
  });

  it('are Established, each of the four kinds', async () => {
    for (const kind of KINDS) {
      const out = await ok([
        'get',
        'crd',
        crdName(kind),
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Established")].status}',
      ]);
      expect(out, kind.kind).to.equal('True');
    }
  });

  it('accept every example with kubectl apply', async () => {
    const out = await ok(['apply', '-f', MANIFEST_DIR]);
    for (const name of [
      'mechost.mecqkd.io/host-1',
      'mecapp.mecqkd.io/cardio-risk',
      'qkdlink.mecqkd.io/client-host-1',
    ]) {
      expect(out).to.contain(`${name} created`);
    }
  });

  it('list all four kinds under the category mec', async () => {
    const out = await ok(['get', 'mec']);
    for (const kind of [
      'mechost.mecqkd.io/host-1',
      'mecapp.mecqkd.io/echo',
      'qkdlink.mecqkd.io/client-host-1',
    ]) {
      expect(out).to.contain(kind);
    }
    expect(out).to.match(/appcontext\.mecqkd\.io\/0f6d1c8e2b7a4e9d8c3b5a1f0e2d4c6b/);
  });

  it('apply the zod defaults on the server', async () => {
    const echo = JSON.parse(await ok(['get', 'mecapp', 'echo', '-o', 'json']));
    expect(echo.spec.action.limits).to.deep.equal({ timeoutMs: 60_000, memoryMb: 256, concurrency: 1 });
    expect(echo.spec.placement.keySizeBits).to.equal(256);
    const host = JSON.parse(await ok(['get', 'mh', 'host-1', '-o', 'json']));
    expect(host.spec.openwhisk.namespace).to.equal('_');
  });

  for (const c of INVALID) {
    it(`reject ${c.title}, naming ${c.field}`, async () => {
      const object = { ...c.object, metadata: { name: `${c.object.metadata.name.slice(0, 20)}x` } };
      if (c.object.kind === 'AppContext') object.metadata.name = 'a'.repeat(32);
      const r = await kubectl(['create', '-f', '-'], toKubeYaml(object));
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.contain(c.field);
      expect(r.stderr).to.match(c.message);
    });
  }

  it('rejects an AppContext whose name is not a MEC 016 contextId', async () => {
    const ctx = example('AppContext');
    ctx.metadata.name = 'not-a-context-id';
    const r = await kubectl(['create', '-f', '-'], toKubeYaml(ctx));
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.contain('metadata.name must be the MEC 016 contextId');
  });

  it('keep appName of an AppContext immutable', async () => {
    const r = await kubectl([
      'patch',
      'appcontext',
      '0f6d1c8e2b7a4e9d8c3b5a1f0e2d4c6b',
      '--type=merge',
      '-p',
      '{"spec":{"appName":"echo"}}',
    ]);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.contain('spec.appName').and.to.contain('appName is immutable');
  });

  it('show the printer columns in kubectl get', async () => {
    expect((await ok(['get', 'appcontexts'])).split('\n')[0]).to.match(
      /^NAME\s+APP\s+HOST\s+PHASE\s+READY\s+AGE$/,
    );
    expect((await ok(['get', 'appcontexts', '-o', 'wide'])).split('\n')[0]).to.match(/READY\s+REASON\s+AGE$/);
    expect((await ok(['get', 'mechosts'])).split('\n')[0]).to.match(
      /^NAME\s+LOAD%\s+KEYS%\s+CONTEXTS\s+READY\s+AGE$/,
    );
    expect((await ok(['get', 'qkdlinks'])).split('\n')[0]).to.match(
      /^NAME\s+FROM\s+TO\s+STATE\s+KEYRATE\s+STORED\s+KEYS%\s+READY\s+AGE$/,
    );
    expect((await ok(['get', 'mecapps'])).split('\n')[0]).to.match(
      /^NAME\s+APPNAME\s+VERSION\s+PROVIDER\s+READY\s+AGE$/,
    );
    const row = (await ok(['get', 'qkdlinks', 'client-host-1', '--no-headers'])).trim();
    expect(row).to.match(/^client-host-1\s+KME_CLIENT\s+KME_HOST_1\s/);
  });

  it('document every field for kubectl explain', async () => {
    const out = await ok(['explain', 'appcontext.spec.client.saeId']);
    expect(out).to.contain('SAE ID of the client-side SAE');
    const host = await ok(['explain', 'mechost.status.keyAvailability']);
    expect(host).to.contain('Key availability in [0,1]');
  });

  it('update status without bumping metadata.generation, and spec with', async () => {
    const name = '0f6d1c8e2b7a4e9d8c3b5a1f0e2d4c6b';
    const before = JSON.parse(await ok(['get', 'appcontext', name, '-o', 'json']));
    const status = { status: { phase: 'Pending', observedGeneration: before.metadata.generation } };
    await ok([
      'patch',
      'appcontext',
      name,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify(status),
    ]);
    const afterStatus = JSON.parse(await ok(['get', 'appcontext', name, '-o', 'json']));
    expect(afterStatus.status.phase).to.equal('Pending');
    expect(afterStatus.metadata.generation).to.equal(before.metadata.generation);
    await ok([
      'patch',
      'appcontext',
      name,
      '--type=merge',
      '-p',
      '{"spec":{"associateDevAppId":"ward-7-tablet-4"}}',
    ]);
    const afterSpec = JSON.parse(await ok(['get', 'appcontext', name, '-o', 'json']));
    expect(afterSpec.metadata.generation).to.equal(before.metadata.generation + 1);
  });

  // the apiserver decodes, re-encodes and sends managedFields with every write and watch event of a
  // context: one writer each, so spec and status are owned whole (issue 11)
  it('record an AppContext spec and status in managedFields as one field each', async () => {
    const ctx = example('AppContext');
    ctx.metadata.name = 'c'.repeat(32);
    await ok(['create', '-f', '-'], toKubeYaml(ctx));
    await ok([
      'patch',
      'appcontext',
      ctx.metadata.name,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { phase: 'Placed', host: 'host-1', keyPath: ['KME_A', 'KME_B'] } }),
    ]);
    const stored = JSON.parse(
      await ok(['get', 'appcontext', ctx.metadata.name, '-o', 'json', '--show-managed-fields']),
    );
    const fields = (
      stored.metadata.managedFields as { subresource?: string; fieldsV1: Record<string, unknown> }[]
    ).map((m) => [m.subresource ?? 'main', m.fieldsV1] as const);
    const main = fields.find(([s]) => s === 'main')![1];
    expect(main['f:spec']).to.deep.equal({});
    expect(fields.find(([s]) => s === 'status')![1]).to.deep.equal({ 'f:status': {} });
  });

  it('accept every ETSI QKD 015 link state in status, OFF included (YAML 1.1 would read it as false)', async () => {
    for (const state of ['ACTIVE', 'PASSIVE', 'PENDING', 'OFF']) {
      await ok([
        'patch',
        'qkdlink',
        'client-host-1',
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { state } }),
      ]);
      expect(await ok(['get', 'qkdlink', 'client-host-1', '-o', 'jsonpath={.status.state}'])).to.equal(state);
    }
  });

  it('ignore status sent to the main resource', async () => {
    const ctx = example('AppContext');
    ctx.metadata.name = 'b'.repeat(32);
    (ctx as Record<string, unknown>).status = { phase: 'Placed', host: 'host-1' };
    await ok(['create', '-f', '-'], toKubeYaml(ctx));
    const got = JSON.parse(await ok(['get', 'appcontext', ctx.metadata.name, '-o', 'json']));
    expect(got.status).to.equal(undefined);
  });
});
