// Invalid custom resources against the real apiserver, with the operator watching the namespace:
// every bound of every field the CRDs (generated from the zod source) declare, broken one at a time;
// every CEL rule, broken; and seeded structural garbage. Each must be refused with a message naming
// the field (and zod, the operator's and LCMP's twin of the schema, must refuse it too); nothing the
// apiserver lets through may crash or wedge the operator, which still places a valid context after.
import { toKubeYaml } from '@mecqkd/common/kube-yaml';
import {
  appContext,
  collectionPath,
  KINDS,
  type KindDescriptor,
  mecApp,
  mecHost,
  qkdLink,
} from '@mecqkd/crds';
import { buildCrd } from '@mecqkd/crds/crd';
import { createKubeClient, type KubeClient } from '@mecqkd/kube/kube-client';
import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import type { RunningOperator } from '@mecqkd/operator/operator';
import { expect } from 'chai';
import type { z } from 'zod';
import { example } from '../../crds/test/fixtures.ts';
import {
  contexts,
  createApp,
  createContext,
  eventually,
  runOperator,
} from '../../operator/test/e2e/support.ts';
import {
  applyMutant,
  celRules,
  fieldName,
  garbageMutants,
  type JsonSchema,
  type Mutant,
  schemaMutants,
} from '../src/cr-mutants.ts';
import { seededRng } from '../src/rng.ts';

const SEED = Number(process.env.CHAOS_SEED ?? 20261201);
const GARBAGE_PER_KIND = Number(process.env.CR_FUZZ_CASES ?? 60);
const ZOD: Record<string, z.ZodType> = {
  MecHost: mecHost,
  MecApp: mecApp,
  AppContext: appContext,
  QkdLink: qkdLink,
};

type Obj = ReturnType<typeof example>;
const schemaOf = (k: KindDescriptor) =>
  buildCrd(k).spec.versions[0]!.schema.openAPIV3Schema as unknown as JsonSchema;
const hex = (n: number) => n.toString(16).padStart(8, '0');
let seq = 0;
/** A fresh name valid for the kind (an AppContext's is a contextId). */
const freshName = (kind: string) =>
  kind === 'AppContext' ? `fa11${hex(Date.now() % 2 ** 32)}${hex(seq++)}`.padEnd(32, '0') : `fz-${seq++}`;

const POLYGON = {
  type: 'Polygon',
  coordinates: [
    [
      [10.4, 43.7],
      [10.5, 43.7],
      [10.5, 43.8],
      [10.4, 43.7],
    ],
  ],
};

/** A violation of each CEL rule, at the object carrying it; transition rules need an update. */
const CEL_VIOLATIONS: Record<string, { create?: (at: Record<string, unknown>) => unknown; update?: Mutant }> =
  {
    'has(self.countryCode) || has(self.area)': { create: () => ({}) },
    '!(has(self.area) && has(self.civicAddressElement))': {
      create: () => ({ area: POLYGON, civicAddressElement: [{ caType: 3, caValue: 'Pisa' }] }),
    },
    'has(self.code) != has(self.codeFrom)': { create: ({ code: _, codeFrom: __, ...rest }) => rest },
    'self.size() <= 32': {
      create: () => Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`l${i}`, 'x'])),
    },
    "self.metadata.name.matches('^[0-9a-f]{32}$')": {
      create: (o) => ({ ...o, metadata: { name: 'not-a-context-id' } }),
    },
    'self.appName == oldSelf.appName': {
      update: { title: 'appName changed', path: ['spec', 'appName'], value: 'other' },
    },
    'self.client == oldSelf.client': {
      update: { title: 'client changed', path: ['spec', 'client', 'saeId'], value: 'SAE_OTHER' },
    },
    'self.source.kmeId != self.target.kmeId': {
      create: (spec) => ({
        ...spec,
        target: { ...(spec.target as object), kmeId: (spec.source as { kmeId: string }).kmeId },
      }),
    },
    'has(self.fibreLengthKm) != has(self.secretKeyRate)': { create: ({ fibreLengthKm: _, ...rest }) => rest },
  };

interface Refusal {
  accepted: boolean;
  status: number;
  message: string;
}

describe('invalid custom resources (apiserver + operator)', function () {
  this.timeout(600_000);
  let tb: MecTestbed;
  let op: RunningOperator;
  let kube: KubeClient;
  const counts = { bounds: 0, cel: 0, garbage: 0, garbageAccepted: 0 };

  const send = async (kind: KindDescriptor, obj: Obj, dryRun: boolean): Promise<Refusal> => {
    try {
      await kube.create(collectionPath(kind.plural, tb.namespace), obj as never, { dryRun });
      return { accepted: true, status: 201, message: '' };
    } catch (err) {
      return {
        accepted: false,
        status: (err as { status?: number }).status ?? 0,
        message: (err as Error).message,
      };
    }
  };
  const baseOf = (kind: KindDescriptor): Obj => {
    const o = example(kind.kind);
    o.metadata = { name: freshName(kind.kind) };
    return o;
  };

  before(async () => {
    tb = await startMecTestbed({ namespace: `fuzz-cr-${Date.now().toString(36)}` });
    op = await runOperator(tb);
    kube = await createKubeClient({ kubeconfigPath: tb.cp.kubeconfigPath });
  });
  after(async () => {
    console.log(`      custom resources: ${JSON.stringify(counts)}`);
    await kube?.close();
    await op?.stop();
    await tb?.stop();
  });

  it('refuses every broken bound of every field with a message naming it; zod refuses it too', async () => {
    const wrong: string[] = [];
    for (const kind of KINDS) {
      const base = baseOf(kind);
      const mutants = schemaMutants(schemaOf(kind), base).filter((m) => m.path[0] === 'spec');
      expect(mutants.length, kind.kind).to.be.greaterThan(5);
      for (const m of mutants) {
        const obj = applyMutant(base, m);
        obj.metadata = { name: freshName(kind.kind) };
        const r = await send(kind, obj, true);
        counts.bounds++;
        if (r.accepted) wrong.push(`${kind.kind} ${m.title}: accepted by the apiserver`);
        else if (r.status !== 422 || !r.message.includes(fieldName(m.path).replace(/\.\d+$/, '')))
          wrong.push(`${kind.kind} ${m.title}: ${r.status} without the field: ${r.message.slice(0, 300)}`);
        if (ZOD[kind.kind]!.safeParse(obj).success) wrong.push(`${kind.kind} ${m.title}: accepted by zod`);
      }
    }
    expect(wrong).to.deep.equal([]);
  });

  it('enforces every CEL rule of the CRDs, with its message', async () => {
    const wrong: string[] = [];
    for (const kind of KINDS) {
      for (const c of celRules(schemaOf(kind))) {
        const v = CEL_VIOLATIONS[c.rule];
        if (!v) {
          wrong.push(`${kind.kind}: no violation written for CEL rule ${c.rule}`);
          continue;
        }
        const base = baseOf(kind);
        counts.cel++;
        if (v.create) {
          const at = (c.path.length ? c.path.reduce<unknown>((o, p) => (o as never)?.[p], base) : base) ?? {};
          const obj = c.path.length
            ? applyMutant(base, { title: c.rule, path: c.path, value: v.create(at as never) })
            : (v.create(base as never) as Obj);
          const r = await send(kind, obj, true);
          if (r.accepted || !r.message.includes(c.message))
            wrong.push(
              `${kind.kind} ${c.rule} at ${fieldName(c.path)}: ${r.accepted ? 'accepted' : r.message.slice(0, 300)}`,
            );
          if (ZOD[kind.kind]!.safeParse(obj).success) wrong.push(`${kind.kind} ${c.rule}: accepted by zod`);
        } else if (v.update) {
          expect((await send(kind, base, false)).accepted, `${kind.kind} base`).to.equal(true);
          const changed = applyMutant(base, v.update);
          const r = await kube
            .patch(`${collectionPath(kind.plural, tb.namespace)}/${base.metadata.name}`, 'merge', {
              spec: changed.spec,
            })
            .then(
              () => ({ accepted: true, message: '' }),
              (err: Error) => ({ accepted: false, message: err.message }),
            );
          if (r.accepted || !r.message.includes(c.message))
            wrong.push(
              `${kind.kind} ${c.rule} (update): ${r.accepted ? 'accepted' : r.message.slice(0, 300)}`,
            );
        }
      }
    }
    expect(wrong).to.deep.equal([]);
  });

  it('refuses structural garbage with field-level messages; what it lets through, zod accepts too', async () => {
    const rng = seededRng(SEED);
    const wrong: string[] = [];
    for (const kind of KINDS) {
      const base = baseOf(kind);
      for (const m of garbageMutants(base, rng, GARBAGE_PER_KIND)) {
        const obj = applyMutant(base, m);
        if (m.path.join('.') !== 'metadata')
          obj.metadata = { ...(obj.metadata as object), name: freshName(kind.kind) };
        // created for real: the operator sees whatever the apiserver lets through
        const r = await send(kind, obj, false);
        counts.garbage++;
        if (r.accepted) {
          counts.garbageAccepted++;
          const stored = (await kube.get(
            `${collectionPath(kind.plural, tb.namespace)}/${obj.metadata.name}`,
          )) as unknown;
          const parsed = ZOD[kind.kind]!.safeParse(stored);
          if (!parsed.success)
            wrong.push(
              `${kind.kind} ${m.title}: stored by the apiserver, refused by zod: ${parsed.error.message.slice(0, 300)}`,
            );
        } else if (r.status === 0 || r.status >= 500)
          wrong.push(`${kind.kind} ${m.title}: ${r.status} ${r.message.slice(0, 200)}`);
        // a metadata that is no object fails decoding into ObjectMeta, before any field validation
        else if (!/spec\.|metadata|ObjectMeta|Invalid value|Required value|must be/i.test(r.message))
          wrong.push(`${kind.kind} ${m.title}: no field named: ${r.message.slice(0, 300)}`);
      }
    }
    expect(wrong).to.deep.equal([]);
  });

  it('still places a valid context afterwards: the operator neither crashed nor wedged', async () => {
    await tb.kubectl(['apply', '-f', '-'], toKubeYaml(example('MecApp', 'echo')));
    await createApp(tb, 'after-fuzz', 'function main(p) { return { ok: true }; }');
    const id = await createContext(tb, 'after-fuzz');
    await eventually(
      'the valid context Placed',
      async () => (await contexts(tb)).find((c) => c.metadata.name === id)?.status?.phase === 'Placed',
      90_000,
    );
    expect((await fetch(`http://127.0.0.1:${op.health.port}/readyz`)).ok).to.equal(true);
  });
});
