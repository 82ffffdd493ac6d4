#!/usr/bin/env node
// Launcher: kme-sim is TypeScript run through tsx (the workspace has no emit step).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
