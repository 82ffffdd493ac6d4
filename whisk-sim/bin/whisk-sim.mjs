#!/usr/bin/env node
// npm `bin` entry: whisk-sim is TypeScript run through tsx, so register the loader, then start the CLI.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
