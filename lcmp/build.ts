// `make build`: bundles the LCMP into dist/lcmp.mjs like the operator's (workspace packages compiled
// in, npm packages external), so it starts without tsx.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = import.meta.dirname;
const deps = (dir: string) =>
  Object.keys(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies ?? {});
const external = [
  ...new Set([root, ...['common', 'crds', 'kube', 'operator'].map((w) => join(root, '..', w))].flatMap(deps)),
].filter((d) => !d.startsWith('@mecqkd/'));

await build({
  entryPoints: [join(root, 'src', 'main.ts')],
  outfile: join(root, 'dist', 'lcmp.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  external,
  logLevel: 'warning',
});
console.log('built lcmp/dist/lcmp.mjs');
