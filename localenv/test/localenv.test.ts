import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import { startControlPlane } from '../src/control-plane.ts';
import { startRedis } from '../src/redis.ts';
import { sharedControlPlane } from '../src/shared.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function redisCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(`${command}\r\n`));
    s.on('data', (d) => {
      resolve(d.toString());
      s.destroy();
    });
    s.on('error', reject);
  });
}

/** Starts interrupt-child.ts, reads the pids it started, interrupts it, and returns those pids. */
async function interruptedChildPids(what: string): Promise<number[]> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'interrupt-child.ts'), what],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const pids = await new Promise<number[]>((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(JSON.parse(d.toString())));
    child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
  return pids;
}

describe('local environment', function () {
  this.timeout(120_000);

  it('starts a private redis-server and stops it', async () => {
    const redis = await startRedis();
    expect(await redisCommand(redis.port, 'PING')).to.equal('+PONG\r\n');
    expect(await redisCommand(redis.port, 'CONFIG GET save')).to.contain('save');
    await redis.stop();
    const refused = await redisCommand(redis.port, 'PING').catch((e: Error) => e.message);
    expect(refused).to.match(/ECONNREFUSED/);
  });

  it('stops redis when the process that started it is interrupted (Ctrl-C)', async () => {
    const pids = await interruptedChildPids('redis');
    expect(pids).to.have.length(1);
    expect(pids.filter(alive)).to.deep.equal([]);
  });

  it('stops etcd and kube-apiserver when the process that started them is interrupted', async () => {
    const pids = await interruptedChildPids('control-plane');
    expect(pids).to.have.length(2);
    expect(pids.filter(alive)).to.deep.equal([]);
  });

  it('starts a second control plane beside the shared one, fast once binaries are cached, and tears it down', async () => {
    const cp = await startControlPlane({ installCrds: false });
    try {
      expect(cp.startupMs).to.be.below(30_000); // the < 15 s figure is measured by make bench, not asserted here
      const version = await cp.kubectl(['version', '-o', 'json']);
      expect(JSON.parse(version.stdout).serverVersion.gitVersion).to.equal('v1.36.3');
    } finally {
      await cp.stop();
    }
    const r = await cp.kubectl(['get', 'ns', '--request-timeout=2s']);
    expect(r.code).to.not.equal(0);
  });

  it('restarts a killed etcd and apiserver on their ports, with what etcd stored', async () => {
    const cp = await startControlPlane({ installCrds: false });
    try {
      expect((await cp.kubectl(['create', 'namespace', 'survives-restarts'])).code).to.equal(0);
      for (const part of ['etcd', 'kube-apiserver'] as const) {
        const killed = cp.process(part);
        await killed.stop('SIGKILL');
        const again = await cp.restart(part);
        expect(again.pid).to.not.equal(killed.pid);
        expect(cp.pids[part === 'etcd' ? 'etcd' : 'apiserver']).to.equal(again.pid);
      }
      const ns = await cp.kubectl(['get', 'namespace', 'survives-restarts', '-o', 'name']);
      expect(ns.stdout.trim(), ns.stderr).to.equal('namespace/survives-restarts');
    } finally {
      await cp.stop();
    }
    expect(alive(cp.pids.etcd) || alive(cp.pids.apiserver)).to.equal(false);
  });

  it('restarts redis on the port its clients know', async () => {
    const redis = await startRedis();
    await redis.process.stop('SIGKILL');
    const again = await startRedis({ port: redis.port });
    try {
      expect(await redisCommand(redis.port, 'PING')).to.equal('+PONG\r\n');
    } finally {
      await again.stop();
      await redis.stop();
    }
  });

  it('enforces RBAC: a user outside system:masters is forbidden until bound to a role', async () => {
    const cp = await sharedControlPlane();
    const viewer = await cp.userKubeconfig('ward-viewer');
    const denied = await cp.kubectl(['get', 'mechosts', '-n', 'default'], { kubeconfig: viewer });
    expect(denied.code).to.not.equal(0);
    expect(denied.stderr).to.contain('forbidden').and.to.contain('ward-viewer');
    const bind = await cp.kubectl([
      'create',
      'clusterrolebinding',
      'ward-viewer-view',
      '--clusterrole=view',
      '--user=ward-viewer',
    ]);
    expect(bind.code, bind.stderr).to.equal(0);
    const role = await cp.kubectl([
      'create',
      'clusterrole',
      'mecqkd-reader',
      '--verb=get,list',
      '--resource=mechosts.mecqkd.io',
    ]);
    expect(role.code, role.stderr).to.equal(0);
    await cp.kubectl([
      'create',
      'clusterrolebinding',
      'ward-viewer-mec',
      '--clusterrole=mecqkd-reader',
      '--user=ward-viewer',
    ]);
    const allowed = await cp.kubectl(['get', 'mechosts', '-n', 'default'], { kubeconfig: viewer });
    expect(allowed.code, allowed.stderr).to.equal(0);
  });
});
