// `make crds`: writes crds/<group>_<plural>.yaml from the zod schemas. `--check` fails when a
// committed file differs from what the schemas generate (a stale CRD).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdFiles } from './files.ts';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
let stale = 0;
for (const { file, text } of crdFiles()) {
  const path = join(outDir, file);
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    /* not generated yet */
  }
  if (current === text) continue;
  if (check) {
    console.error(`crds/${file} is stale: run make crds and commit the result`);
    stale++;
  } else {
    writeFileSync(path, text);
    console.log(`wrote crds/${file}`);
  }
}
if (stale > 0) process.exit(1);
if (check) console.log('crds: generated YAML is up to date');
