import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import type { z } from 'zod';
import { crdFiles } from '../src/files.ts';
import { appContext, mecApp, mecHost, qkdLink } from '../src/resources.ts';
import { exampleObjects, INVALID } from './fixtures.ts';

const SCHEMAS: Record<string, z.ZodType> = {
  MecHost: mecHost,
  MecApp: mecApp,
  AppContext: appContext,
  QkdLink: qkdLink,
};

describe('CRD schemas (zod)', () => {
  it('accept every example in examples/manifests', () => {
    const ours = exampleObjects().filter((o) => o.apiVersion === 'mecqkd.io/v1alpha1');
    expect(ours.map((o) => o.kind)).to.include.members(['MecHost', 'MecApp', 'AppContext', 'QkdLink']);
    for (const o of ours) {
      const result = SCHEMAS[o.kind]!.safeParse(o);
      expect(result.success, `${o.kind}/${o.metadata.name}: ${result.error?.message}`).to.equal(true);
    }
  });

  it('fill in the documented defaults', () => {
    const echo = mecApp.parse(exampleObjects().find((o) => o.metadata.name === 'echo'));
    expect(echo.spec.action).to.include({ kind: 'nodejs:20', main: 'main' });
    expect(echo.spec.action.limits).to.deep.equal({ timeoutMs: 60_000, memoryMb: 256, concurrency: 1 });
    expect(echo.spec.placement).to.include({ maxLoad: 0.8, invocationsPerKey: 1, keySizeBits: 256 });
  });

  for (const c of INVALID) {
    it(`reject ${c.title}, naming ${c.field}`, () => {
      const result = SCHEMAS[c.object.kind]!.safeParse(c.object);
      expect(result.success).to.equal(false);
      const paths = result.error!.issues.map((i) => i.path.join('.'));
      expect(paths).to.include(c.field);
    });
  }
});

describe('generated CRD YAML', () => {
  it('is what the zod schemas generate (run make crds when this fails)', () => {
    for (const { file, text } of crdFiles()) {
      const committed = readFileSync(join(import.meta.dirname, '..', file), 'utf8');
      expect(committed, `crds/${file} is stale`).to.equal(text);
    }
  });

  it('is a structural schema with a description on every field', () => {
    const missing: string[] = [];
    const walk = (node: Record<string, unknown>, path: string) => {
      const props = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
      for (const [name, child] of Object.entries(props)) {
        const p = `${path}.${name}`;
        if (!child.description && !['apiVersion', 'kind', 'metadata'].includes(name)) missing.push(p);
        walk(child, p);
        if (child.items) walk(child.items as Record<string, unknown>, `${p}[]`);
      }
    };
    for (const { text } of crdFiles()) {
      const crd = parse(text);
      walk(crd.spec.versions[0].schema.openAPIV3Schema, crd.spec.names.kind);
    }
    expect(missing).to.deep.equal([]);
  });
});
