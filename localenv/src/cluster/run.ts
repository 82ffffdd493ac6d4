// Runs a command to completion (ip, mount, ctr, skopeo, kubectl): the output is kept for the caller,
// and a failure names the command and its stderr.
import { execFile } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export function run(command: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      { env: opts.env ?? process.env, maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 0 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr: err && !stderr ? err.message : stderr });
      },
    );
    child.stdin?.end(opts.input);
  });
}

/** Like run, but throws (with the command line and its stderr) unless it exits 0. */
export async function must(command: string, args: string[], opts: ExecOptions = {}): Promise<string> {
  const res = await run(command, args, opts);
  if (res.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${res.code}: ${res.stderr.trim()}`);
  }
  return res.stdout;
}
