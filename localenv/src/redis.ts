// A private redis-server (Debian package) on a free loopback port, with persistence off: Redis holds
// only telemetry snapshots the operator rewrites every period, so a restarted, empty Redis is whole
// again after one telemetry period (README, "Resilience").
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@mecqkd/common/ports';
import { type ManagedProcess, startProcess, waitUntil } from '@mecqkd/common/process';
import { redisServerBinary } from './binaries.ts';

export interface RedisServer {
  url: string;
  port: number;
  process: ManagedProcess;
  stop(): Promise<void>;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
    socket.on('data', (data) => {
      resolve(data.toString().startsWith('+PONG'));
      socket.destroy();
    });
    socket.on('connect', () => socket.write('PING\r\n'));
  });
}

/** `port`: a restart on the port the clients already know (a chaos run kills Redis). */
export async function startRedis(opts: { dir?: string; port?: number } = {}): Promise<RedisServer> {
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'mecqkd-redis-'));
  const port = opts.port ?? (await freePort());
  const proc = startProcess({
    name: 'redis-server',
    command: redisServerBinary(),
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    logFile: join(dir, 'redis.log'),
  });
  const stop = async () => {
    await proc.stop();
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil('redis-server PING', () => ping(port), { timeoutMs: 20_000, process: proc });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `redis://127.0.0.1:${port}`, port, process: proc, stop };
}
