import { expect } from 'chai';
import { IndexedStore } from '../src/store.ts';
import type { KubeObject } from '../src/types.ts';

const obj = (namespace: string | undefined, name: string, v = '1'): KubeObject => ({
  metadata: { name, ...(namespace ? { namespace } : {}), resourceVersion: v },
});
const key = (o: KubeObject) =>
  o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
const names = (it: Iterable<KubeObject>) => [...it].map((o) => o.metadata.name).sort();

describe('runtime/store: objects by namespace', () => {
  it('lists and iterates one namespace, all of them, or the cluster-scoped ones, through every write', () => {
    const store = new IndexedStore<KubeObject>();
    for (const o of [obj('a', 'x'), obj('a', 'y'), obj('b', 'x'), obj(undefined, 'c')]) store.set(key(o), o);
    expect(names(store.values('a'))).to.deep.equal(['x', 'y']);
    expect(names(store.list('b'))).to.deep.equal(['x']);
    expect(names(store.values())).to.deep.equal(['c', 'x', 'x', 'y']);
    expect(names(store.values(''))).to.deep.equal(['c']);
    expect(names(store.values('none'))).to.deep.equal([]);

    store.set('a/x', obj('a', 'x', '2'));
    expect([...store.values('a')].find((o) => o.metadata.name === 'x')?.metadata.resourceVersion).to.equal(
      '2',
    );
    expect(store.delete('a/y')?.metadata.name).to.equal('y');
    expect(names(store.values('a'))).to.deep.equal(['x']);
    store.delete('a/x');
    expect(names(store.list('a'))).to.deep.equal([]);
    expect(names(store.values())).to.deep.equal(['c', 'x']);
  });
});
