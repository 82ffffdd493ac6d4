// A node daemon: a process of its own (its own process group) inside the node's network namespace,
// its output in <runDir>/logs/<name>.log. Not common/process: that one exits the whole program on
// Ctrl-C, and the node must first be torn down (unmounts, namespace, cgroups, sysctls).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { paths } from './config-files.ts';
import { inNetns, type NodeNetwork } from './netns.ts';

export interface Daemon {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves with the exit code (or the signal's name) once the process has gone. */
  exited: Promise<number | string>;
  hasExited(): boolean;
  /** SIGKILL, synchronously (for process.on('exit')). */
  kill(): void;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process has gone. */
  stop(graceMs?: number): Promise<void>;
}

export function daemon(
  net: NodeNetwork,
  runDir: string,
  name: string,
  binary: string,
  args: string[],
): Daemon {
  const [command, argv] = inNetns(net, binary, args);
  const logDir = paths(runDir).logs;
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  if (child.pid === undefined) throw new Error(`${name}: cannot start ${binary}`);
  const pid = child.pid;
  let gone = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (err) => {
      gone = true;
      log.end(`${name}: cannot start ${binary}: ${err.message}\n`);
      resolve(`error: ${err.message}`);
    });
    child.once('exit', (code, signal) => {
      gone = true;
      log.end();
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  };
  return {
    name,
    pid,
    logFile,
    exited,
    hasExited: () => gone,
    kill: () => signal('SIGKILL'),
    async stop(graceMs = 15_000) {
      if (gone) return;
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Polls probe until it returns true; fails early, naming the log, when one of the daemons it needs
 * has exited, and after timeoutMs with the probe's last error.
 */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  opts: { timeoutMs: number; needs: Daemon[]; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const dead = opts.needs.find((d) => d.hasExited());
    if (dead) throw new Error(`${what}: ${dead.name} exited (${await dead.exited}); see ${dead.logFile}`);
    try {
      if (await probe()) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
  throw new Error(
    `timed out after ${opts.timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`,
  );
}
