// Runs the real `mecqkd` binary (sdk/bin/mecqkd.mjs) as a child process, configured the way a user
// would: MECQKD_* environment variables for the LCMP, its CA, client credentials and the client SAE.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLIENTS, type World } from './world.ts';

export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'mecqkd.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cliEnv(w: World, over: Record<string, string> = {}): NodeJS.ProcessEnv {
  const sae = w.tb.clientSae;
  return {
    PATH: process.env.PATH,
    HOME: mkdtempSync(join(tmpdir(), 'mecqkd-cli-home-')),
    MECQKD_LCMP_URL: w.lcmp.url,
    MECQKD_CA: w.caFile,
    MECQKD_CLIENT_ID: CLIENTS.ward.clientId,
    MECQKD_CLIENT_SECRET: CLIENTS.ward.secret,
    MECQKD_DEV_APP_ID: 'ward-7',
    MECQKD_KME_URL: sae.url,
    MECQKD_KME_CA: sae.ca,
    MECQKD_KME_CERT: sae.cert,
    MECQKD_KME_KEY: sae.key,
    MECQKD_CLIENT_SAE_ID: sae.id,
    ...over,
  };
}

export function mecqkd(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** A long-running command: its stdout lines as they come, and its end. */
export function mecqkdStream(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (c) => {
    stderr += c;
  });
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.splice(0)) w();
  });
  const ended = new Promise<CliResult>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout: lines.join('\n'), stderr })),
  );
  return {
    lines,
    ended,
    /** The first line `match` accepts (waits for it, or fails when the process ends first). */
    async line(match: (l: string) => boolean): Promise<string> {
      for (;;) {
        const found = lines.find(match);
        if (found) return found;
        const more = new Promise<void>((r) => waiters.push(r));
        const end = await Promise.race([more.then(() => false), ended.then(() => true)]);
        if (end && !lines.some(match)) throw new Error(`mecqkd ${args.join(' ')} ended first: ${stderr}`);
      }
    },
    stop: () => child.kill('SIGINT'),
  };
}
