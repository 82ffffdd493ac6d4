#!/usr/bin/env node
// The `mecqkd` CLI: its TypeScript run through tsx's loader (registered here, so no flags needed).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main();
