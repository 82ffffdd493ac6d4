// Child processes started by tests and `make demo`: each is tracked so that it is stopped on normal
// exit, on test failure and on Ctrl-C, and its output goes to a log file rather than the terminal.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { processGlobal } from './process-global.ts';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr are appended here. */
  logFile: string;
}

export interface ManagedProcess {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves with the exit code once the process has gone. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const tracking = processGlobal('common/process', () => ({
  running: new Set<ManagedProcess>(),
  hooksInstalled: false,
}));
const running = tracking.running;

function installExitHooks(): void {
  if (tracking.hooksInstalled) return;
  tracking.hooksInstalled = true;
  // Synchronous kill on exit: async work is impossible inside 'exit'.
  process.on('exit', () => {
    for (const p of running) killTree(p.pid, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      // a program with a handler of its own stops gracefully (and stops its children) itself
      if (process.listenerCount(signal) > 0) return;
      void stopAll().finally(() =>
        process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1)),
      );
    });
  }
}

function killTree(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // the child leads its own process group
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

export function startProcess(spec: ProcessSpec): ManagedProcess {
  installExitHooks();
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const log = createWriteStream(spec.logFile, { flags: 'a' });
  const child: ChildProcess = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', (err) =>
      reject(new Error(`${spec.name}: cannot start ${spec.command}: ${err.message}`)),
    );
    child.once('exit', (code) => {
      running.delete(handle);
      log.end();
      resolve(code);
    });
  });
  exited.catch(() => {}); // observed by callers through stop() or waitReady()
  if (child.pid === undefined) throw new Error(`${spec.name}: cannot start ${spec.command}`);
  const pid = child.pid;
  const handle: ManagedProcess = {
    name: spec.name,
    pid,
    logFile: spec.logFile,
    exited,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (!running.has(handle)) return;
      killTree(pid, signal);
      const timer = setTimeout(() => killTree(pid, 'SIGKILL'), graceMs);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  running.add(handle);
  return handle;
}

/** Stops every process this module started, newest first. */
export async function stopAll(): Promise<void> {
  const all = [...running].reverse();
  for (const p of all) await p.stop();
}

export function runningProcesses(): ManagedProcess[] {
  return [...running];
}

/**
 * Polls `probe` until it returns true. Fails early, with the log file named, if `process` exits;
 * fails with `what` in the message after `timeoutMs`.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  opts: { timeoutMs?: number; intervalMs?: number; process?: ManagedProcess } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let exitCode: number | null | undefined;
  opts.process?.exited.then((c) => {
    exitCode = c;
  });
  let lastError = '';
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(
        `${what}: ${opts.process?.name} exited with code ${exitCode}; see ${opts.process?.logFile}`,
      );
    }
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
  const log = opts.process ? `; see ${opts.process.logFile}` : '';
  throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}${log}`);
}
