#!/usr/bin/env node
// The `mecqkd` CLI: the bundle `make build` writes (sdk/build.ts).
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/mecqkd.mjs', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write('mecqkd: sdk/dist/mecqkd.mjs is missing; run `make build` first\n');
  process.exit(1);
}
const { main } = await import(bundle.href);
await main();
