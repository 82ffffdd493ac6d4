// Example objects: the ones in examples/manifests (valid), and broken variants with the field each
// must be rejected for — one table used against zod and against the apiserver.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const MANIFEST_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'examples',
  'manifests',
);

export type Obj = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };

export function exampleObjects(): Obj[] {
  return readdirSync(MANIFEST_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(MANIFEST_DIR, f), 'utf8')).map((d) => d.toJS() as Obj),
    );
}

export function example(kind: string, name?: string): Obj {
  const found = exampleObjects().find(
    (o) => o.kind === kind && (name === undefined || o.metadata.name === name),
  );
  if (!found) throw new Error(`no example ${kind} ${name ?? ''}`);
  return structuredClone(found);
}

export interface InvalidCase {
  title: string;
  object: Obj;
  /** The field the error message must name (as the apiserver spells its path). */
  field: string;
  /** A fragment of the message for this rule. */
  message: RegExp;
}

// biome-ignore lint/suspicious/noExplicitAny: fixtures reach into untyped YAML documents
type Doc = Record<string, any>;

function edit(kind: string, name: string | undefined, change: (o: Doc) => void): Obj {
  const o = example(kind, name);
  change(o);
  return o;
}

export const INVALID: InvalidCase[] = [
  {
    title: 'MecHost without its KME (missing required field)',
    object: edit('MecHost', undefined, (o) => delete o.spec.kme),
    field: 'spec.kme',
    message: /Required/,
  },
  {
    title: 'MecHost with capacity below the minimum (out of range)',
    object: edit('MecHost', undefined, (o) => {
      o.spec.capacity.memoryMb = 64;
    }),
    field: 'spec.capacity.memoryMb',
    message: /greater than or equal to 128/,
  },
  {
    title: 'MecHost location with an area and civic address elements (CEL)',
    object: edit('MecHost', undefined, (o) => {
      o.spec.location.area = {
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
    }),
    field: 'spec.location.civicAddressElement',
    message: /civicAddressElement must be absent when area is present/,
  },
  {
    title: 'MecApp placement maxLoad above 1 (out of range)',
    object: edit('MecApp', 'cardio-risk', (o) => {
      o.spec.placement.maxLoad = 1.5;
    }),
    field: 'spec.placement.maxLoad',
    message: /less than or equal to 1/,
  },
  {
    title: 'MecApp with both inline code and codeFrom (CEL)',
    object: edit('MecApp', 'cardio-risk', (o) => {
      o.spec.action.code = 'function main() { return {}; }';
    }),
    field: 'spec.action.code',
    message: /exactly one of code and codeFrom must be set/,
  },
  {
    title: 'MecApp appName longer than MEC 016 allows',
    object: edit('MecApp', 'echo', (o) => {
      o.spec.appInfo.appName = 'x'.repeat(33);
    }),
    field: 'spec.appInfo.appName',
    message: /may not be more than 32/,
  },
  {
    title: 'QkdLink from a KME to itself (CEL)',
    object: edit('QkdLink', undefined, (o) => {
      o.spec.target.kmeId = o.spec.source.kmeId;
    }),
    field: 'spec.target.kmeId',
    message: /a link joins two different KMEs/,
  },
  {
    title: 'QkdLink with both a fibre length and a key rate (CEL)',
    object: edit('QkdLink', undefined, (o) => {
      o.spec.secretKeyRate = 1000;
    }),
    field: 'spec.fibreLengthKm',
    message: /exactly one of fibreLengthKm and secretKeyRate must be set/,
  },
  {
    title: 'AppContext without its client SAE (missing required field)',
    object: edit('AppContext', undefined, (o) => delete o.spec.client.saeId),
    field: 'spec.client.saeId',
    message: /Required/,
  },
  {
    title: 'AppContext whose callbackReference is not an http(s) URI',
    object: edit('AppContext', undefined, (o) => {
      o.spec.callbackReference = 'ftp://example/notify';
    }),
    field: 'spec.callbackReference',
    message: /should match|Invalid string/,
  },
];
