#!/usr/bin/env node
// The LCMP binary: the bundle `make build` writes.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/lcmp.mjs', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write('lcmp: dist/lcmp.mjs is missing; run `make build` first\n');
  process.exit(1);
}
await import(bundle.href);
