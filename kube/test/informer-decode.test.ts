// A version that fails validation is not a deletion: the informer keeps the last valid version.
import { expect } from 'chai';
import { Informer } from '../src/informer.ts';
import type { KubeClient } from '../src/kube-client.ts';
import { collectionPath, objectPath } from '../src/kube-paths.ts';
import type { KubeObject } from '../src/types.ts';
import { clientFor, configMap, configMaps, deleteNamespace, eventually, freshNamespace } from './support.ts';

type Cm = KubeObject & { data?: Record<string, string> };

/** Stands in for a zod schema older than the objects: version "2" is a shape it does not know. */
function parseCm(raw: unknown): Cm {
  const cm = raw as Cm;
  if (cm.data?.schema === '2') throw new Error('data.schema: expected "1"');
  return cm;
}

describe('runtime/informer decode failures (real apiserver)', function () {
  this.timeout(60_000);
  let kube: KubeClient;
  let ns: string;
  let informer: Informer<Cm> | undefined;

  before(async () => {
    kube = await clientFor();
    ns = await freshNamespace(kube, 'decode');
  });
  afterEach(async () => {
    await informer?.stop();
  });
  after(async () => {
    await deleteNamespace(kube, ns);
    await kube.close();
  });

  it('keeps the last valid version, reports the invalid one, and emits no delete', async () => {
    const invalid: { name: string; error: string }[] = [];
    const deleted: string[] = [];
    informer = new Informer<Cm>({
      name: `decode-${ns}`,
      client: kube,
      path: collectionPath(configMaps, ns),
      parse: parseCm,
      onInvalid: (obj, err) => invalid.push({ name: obj.metadata.name, error: err.message }),
    });
    informer.on('delete', (o) => deleted.push(o.metadata.name));
    await kube.create(collectionPath(configMaps, ns), configMap(ns, 'ctx', { schema: '1', host: 'edge-1' }));
    informer.start();
    await informer.waitForSync(10_000);
    const path = objectPath(configMaps, ns, 'ctx');
    await kube.patch(path, 'merge', { data: { schema: '2' } });
    await eventually('the invalid version reported', () => invalid.length > 0);
    expect(invalid[0]).to.deep.equal({ name: 'ctx', error: 'data.schema: expected "1"' });
    expect(informer.get(`${ns}/ctx`)?.data).to.deep.equal({ schema: '1', host: 'edge-1' });
    expect(informer.rejectedKeys(ns)).to.deep.equal([`${ns}/ctx`]);
    expect(deleted).to.deep.equal([]);

    // an informer started now has no valid version to keep, and says so
    const late = new Informer<Cm>({
      name: `decode-late-${ns}`,
      client: kube,
      path: collectionPath(configMaps, ns),
      parse: parseCm,
    });
    late.start();
    await late.waitForSync(10_000);
    expect(late.get(`${ns}/ctx`)).to.equal(undefined);
    expect(late.rejectedKeys()).to.deep.equal([`${ns}/ctx`]);
    await late.stop();

    await kube.patch(path, 'merge', { data: { schema: '1', host: 'edge-2' } });
    await eventually(
      'the next valid version cached',
      () => informer?.get(`${ns}/ctx`)?.data?.host === 'edge-2',
    );
    expect(informer.rejectedKeys()).to.deep.equal([]);
    await kube.delete(path);
    await eventually('the real delete delivered', () => deleted.length === 1);
  });
});
