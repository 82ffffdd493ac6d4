import { expect } from 'chai';
import { type HeapSnapshot, heapChange, kinds } from '../src/heap-diff.ts';

// a snapshot in V8's layout: one row of node_fields per object, names by index into strings
function snapshot(objects: [type: number, name: number, size: number][]): HeapSnapshot {
  return {
    snapshot: {
      meta: {
        node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'],
        node_types: [['hidden', 'object', 'code', 'string']],
      },
    },
    nodes: objects.flatMap(([type, name, size], id) => [type, name, id, size, 0]),
    strings: ['', 'Socket', 'Map', 'some text'],
  };
}

describe('heap snapshots: what grew between two', () => {
  it('counts live objects by type and constructor, strings and code as one kind each', () => {
    const k = kinds(
      snapshot([
        [1, 1, 40],
        [1, 1, 40],
        [1, 2, 24],
        [3, 3, 16],
        [3, 0, 32],
        [2, 3, 100],
      ]),
    );
    expect(k.get('object:Socket')).to.deep.equal({ count: 2, bytes: 80 });
    expect(k.get('object:Map')).to.deep.equal({ count: 1, bytes: 24 });
    expect(k.get('string:')).to.deep.equal({ count: 2, bytes: 48 });
    expect(k.get('code:')).to.deep.equal({ count: 1, bytes: 100 });
  });

  it('names the kinds that piled up and sets V8 code apart', () => {
    const before = kinds(
      snapshot([
        [1, 1, 40],
        [2, 0, 100],
      ]),
    );
    const after = kinds(
      snapshot([
        [1, 1, 40],
        [1, 1, 40],
        [1, 1, 40],
        [2, 0, 300],
        [1, 2, 8],
      ]),
    );
    const c = heapChange(before, after);
    expect(c).to.include({ bytes: 288, v8Bytes: 200 });
    expect(c.grown).to.deep.equal([
      { kind: 'code:', count: 0, bytes: 200 },
      { kind: 'object:Socket', count: 2, bytes: 80 },
      { kind: 'object:Map', count: 1, bytes: 8 },
    ]);
  });

  it('refuses a file that is not a heap snapshot', () => {
    const bad = { snapshot: { meta: { node_fields: ['id'], node_types: [[]] } }, nodes: [], strings: [] };
    expect(() => kinds(bad as unknown as HeapSnapshot)).to.throw(/not a V8 heap snapshot/);
  });
});
