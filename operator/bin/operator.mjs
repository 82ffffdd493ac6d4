#!/usr/bin/env node
// The operator binary: the bundle `make build` writes.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/operator.mjs', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write('operator: dist/operator.mjs is missing; run `make build` first\n');
  process.exit(1);
}
await import(bundle.href);
