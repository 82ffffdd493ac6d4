// `make crds`: writes crds/<group>_<plural>.yaml, and the same files into the Helm chart's crds/,
// from the zod schemas. `--check` fails when a committed file differs from what the schemas
// generate (a stale CRD, in either place).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdFiles } from './files.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDirs = ['crds', 'charts/mecqkd/crds'];
const check = process.argv.includes('--check');
let stale = 0;
for (const { file: name, text } of crdFiles())
  for (const dir of outDirs) {
    const file = `${dir}/${name}`;
    const path = join(root, file);
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      /* not generated yet */
    }
    if (current === text) continue;
    if (check) {
      console.error(`${file} is stale: run make crds and commit the result`);
      stale++;
    } else {
      writeFileSync(path, text);
      console.log(`wrote ${file}`);
    }
  }
if (stale > 0) process.exit(1);
if (check) console.log('crds: generated YAML is up to date');
