// One action container: a child process running the Node.js runner, with its heap bounded by the
// action's memory limit. It is told to init/run over IPC and its stdout/stderr become the activation
// logs, cut at the runner's end-of-activation sentinel like the invoker's log collector does.
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { messages } from '../errors.ts';
import { type InitMessage, LOG_SENTINEL, type ReplyMessage, type RunMessage } from './protocol.ts';
import { runnerScript, runnerSource } from './runner-script.ts';

export type Outcome =
  | { kind: 'reply'; status: number; body: string }
  | { kind: 'timeout' }
  | { kind: 'exited'; oom: boolean };

export interface ContainerOptions {
  /** Identity of what runs inside: containers are reused only for the same key. */
  key: string;
  memoryMb: number;
  /** The `__OW_API_HOST` actions see. */
  apiHost: string;
  /** More environment the deployment gives every container (e.g. Kubernetes service links). */
  env?: Record<string, string>;
}

/** RFC 3339 UTC with nanoseconds, the timestamp format of OpenWhisk log lines. */
function logTimestamp(): string {
  const nanos = String(process.hrtime.bigint() % 1_000_000n).padStart(6, '0');
  return new Date().toISOString().replace('Z', `${nanos}Z`);
}

type Stream = 'stdout' | 'stderr';

export class Container {
  readonly id = randomUUID();
  readonly key: string;
  readonly memoryMb: number;
  private readonly child: ChildProcess;
  private pending: { resolve: (o: Outcome) => void; timer: NodeJS.Timeout } | undefined;
  private exited = false;
  private oomSeen = false;
  private lines: string[] = [];
  private logBytes = 0;
  private logLimit = 0;
  private truncated = false;
  private ended = new Set<Stream>();
  private logsWaiter: (() => void) | undefined;
  private readonly ready: Promise<Outcome>;
  private markReady: ((o: Outcome) => void) | undefined;

  constructor(opts: ContainerOptions) {
    this.key = opts.key;
    this.memoryMb = opts.memoryMb;
    this.child = fork(runnerScript(), [runnerSource], {
      execArgv: [`--max-old-space-size=${opts.memoryMb}`],
      // Only what an action container would have: never the server's own environment.
      env: { ...opts.env, PATH: process.env.PATH ?? '/usr/bin:/bin', __OW_API_HOST: opts.apiHost },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.collect('stdout', this.child.stdout);
    this.collect('stderr', this.child.stderr);
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
    this.child.on('message', (m: ReplyMessage) => {
      const outcome: Outcome = { kind: 'reply', status: m.status, body: m.body };
      if (m.op === 'ready') return this.markReady?.(outcome);
      // Nothing printed since the last sentinels: the logs are complete, no sentinel follows.
      if (m.op === 'run' && m.logs === false) this.ended.add('stdout').add('stderr');
      this.settle(outcome);
    });
    this.child.on('error', () => this.onExit());
    // 'close' rather than 'exit': by then stdout and stderr are drained into the logs.
    this.child.on('close', (_code, signal) => {
      if (signal === 'SIGABRT' || signal === 'SIGTRAP') this.oomSeen = true;
      this.onExit();
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  private onExit(): void {
    this.exited = true;
    this.markReady?.({ kind: 'exited', oom: this.oomSeen });
    this.settle({ kind: 'exited', oom: this.oomSeen });
    this.ended.add('stdout').add('stderr');
    this.logsWaiter?.();
  }

  private settle(outcome: Outcome): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.resolve(outcome);
  }

  private collect(stream: Stream, source: Readable | null): void {
    if (!source) return;
    source.setEncoding('utf8');
    let partial = '';
    source.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) this.addLine(stream, line);
    });
  }

  private addLine(stream: Stream, line: string): void {
    if (line === LOG_SENTINEL) {
      this.ended.add(stream);
      if (this.ended.size === 2) this.logsWaiter?.();
      return;
    }
    if (stream === 'stderr' && line.includes('heap out of memory')) this.oomSeen = true;
    if (this.truncated) return;
    const entry = `${logTimestamp()} ${stream}: ${line}`;
    this.logBytes += Buffer.byteLength(entry);
    if (this.logLimit > 0 && this.logBytes > this.logLimit) {
      this.truncated = true;
      this.lines.push(`${logTimestamp()} stderr: ${messages.logsTruncated(this.logLimit)}`);
      return;
    }
    this.lines.push(entry);
  }

  private send(message: InitMessage | RunMessage, timeoutMs: number): Promise<Outcome> {
    if (this.exited) return Promise.resolve({ kind: 'exited', oom: this.oomSeen });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.settle({ kind: 'timeout' });
        this.destroy();
      }, timeoutMs);
      this.pending = { resolve, timer };
      this.child.send(message);
    });
  }

  /**
   * The runner's process has booted (a reply), or has not within `timeoutMs` (then it is killed) or died.
   * As OpenWhisk's container creation, this is bounded apart from the action's time limit.
   */
  async started(timeoutMs: number): Promise<Outcome> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
    });
    const ready = await Promise.race([this.ready, timedOut]);
    clearTimeout(timer);
    if (ready.kind === 'timeout') this.destroy();
    return ready;
  }

  /** /init of a started container, bounded by the action's time limit. */
  init(value: InitMessage['value'], timeoutMs: number): Promise<Outcome> {
    return this.send({ op: 'init', value }, timeoutMs);
  }

  /** Starts log collection for an activation; lines printed during init belong to it too. */
  run(message: Omit<RunMessage, 'op'>, timeoutMs: number, logLimitBytes: number): Promise<Outcome> {
    this.ended.clear();
    this.logLimit = logLimitBytes;
    return this.send({ op: 'run', ...message }, timeoutMs);
  }

  /** The activation's log lines, once the runner has ended them on both streams (or has gone). */
  async takeLogs(): Promise<string[]> {
    if (this.ended.size < 2) {
      await new Promise<void>((resolve) => {
        this.logsWaiter = resolve;
      });
      this.logsWaiter = undefined;
    }
    const lines = this.lines;
    this.lines = [];
    this.logBytes = 0;
    this.truncated = false;
    return lines;
  }

  destroy(): void {
    if (this.exited) return;
    this.child.kill('SIGKILL');
  }
}
