// The whole local system of a chaos run, every part a process the harness can kill, restart, pause
// or break: a control plane of its own (so pausing etcd and the apiserver hurts no one else), a
// Redis of its own, the MEC testbed (KMEs, host SAEs, a whisk-sim per host, each behind a fault
// proxy), two operator replicas, the LCMP, registered clients and a device app's receiver.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toKubeYaml } from '@mecqkd/common/kube-yaml';
import { freePort } from '@mecqkd/common/ports';
import { type ManagedProcess, startProcess, waitUntil } from '@mecqkd/common/process';
import { startKmeProcess } from '@mecqkd/kme-sim/testbed';
import { type ControlPlane, type ControlPlanePart, startControlPlane } from '@mecqkd/localenv/control-plane';
import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import { startRedis } from '@mecqkd/localenv/redis';
import { CLIENTS, mecApp, Receiver, registerClient, runLcmpProcess } from '../../lcmp/test/support.ts';
import {
  eventually,
  runOperatorProcess,
  type Supervisor,
  supervise,
} from '../../operator/test/e2e/support.ts';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';

/**
 * The app every context runs: a checkable function of its arguments, naming itself and the OpenWhisk
 * that ran it (so that an answer from a host the context has left shows).
 */
export const appCode = (name: string) =>
  `function main(p) { return { app: ${JSON.stringify(name)}, sum: p.a + p.b, echo: p.note, at: process.env.__OW_API_HOST }; }`;
export const APPS = ['cardio', 'covid'];

export interface ChaosWorld {
  tb: MecTestbed;
  cp: ControlPlane;
  proxies: Record<string, FaultProxy>;
  /**
   * Supervised processes (restarted whenever they exit, on the same ports and data directories):
   * etcd and the apiserver, Redis, two operator replicas, the LCMP, a whisk-sim and a host SAE per
   * host, the KMEs.
   */
  controlPlane: Record<ControlPlanePart, Supervisor>;
  redis: { url: string; supervisor: Supervisor };
  operators: Record<string, Supervisor>;
  hostSaes: Record<string, Supervisor>;
  /** Mx2 at `url`; /metrics at `healthUrl`. */
  lcmp: { url: string; healthUrl: string; supervisor: Supervisor };
  whisks: Record<string, Supervisor>;
  kmes: Supervisor;
  receiver: Receiver;
  stop(): Promise<void>;
}

const WHISK_CLI = fileURLToPath(import.meta.resolve('@mecqkd/whisk-sim/cli'));

export async function startChaosWorld(dir: string): Promise<ChaosWorld> {
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
  };
  try {
    const cp = await startControlPlane({ dir: join(dir, 'control-plane') });
    stoppers.push(() => cp.stop());
    const redisDir = join(dir, 'redis');
    const redisServer = await startRedis({ dir: redisDir });
    stoppers.push(() => redisServer.stop());
    const tb = await startMecTestbed({ namespace: 'chaos', dir, controlPlane: cp });
    stoppers.push(() => tb.stop());

    // every host's OpenWhisk behind a proxy that can answer 5xx
    const proxies: Record<string, FaultProxy> = {};
    for (const h of tb.hosts) {
      const p = await startFaultProxy(tb.whisks[h.name]!.apiHost);
      stoppers.push(() => p.close());
      proxies[h.name] = p;
      await tb.kubectl([
        'patch',
        'mechost',
        h.name,
        '--type=merge',
        '-p',
        JSON.stringify({ spec: { openwhisk: { apiHost: p.url } } }),
      ]);
    }
    const catalog = APPS.map((a) => {
      const app = mecApp(a, {}, { expectedInvocationsPerSecond: 2 }) as {
        spec: { action: { code: string } };
      };
      app.spec.action.code = appCode(a);
      return toKubeYaml(app);
    });
    await tb.kubectl(['apply', '-f', '-'], catalog.join('---\n'));
    for (const c of Object.values(CLIENTS)) await registerClient(tb, c);

    // every process runs under a supervisor that restarts it when it exits, as the kubelet does:
    // a SIGKILL is healed by the restart, and a replica that loses its Lease exits and comes back
    const supervisors: Supervisor[] = [];
    const supervised = (first: ManagedProcess | undefined, start: () => Promise<ManagedProcess>) => {
      let initial = first;
      const s = supervise(async () => {
        const p = initial ?? (await start());
        initial = undefined;
        return p;
      });
      supervisors.push(s);
      return s;
    };
    stoppers.push(async () => {
      for (const s of supervisors.reverse()) await s.stop();
    });
    // supervised first, so stopped last: everything else still has its apiserver while stopping
    const controlPlane = {
      etcd: supervised(cp.process('etcd'), () => cp.restart('etcd')),
      'kube-apiserver': supervised(cp.process('kube-apiserver'), () => cp.restart('kube-apiserver')),
    };
    const redis = supervised(
      redisServer.process,
      async () => (await startRedis({ dir: redisDir, port: redisServer.port })).process,
    );
    const hostSaes: Record<string, Supervisor> = {};
    for (const h of tb.hosts) {
      const sae = tb.secure.hostSaes[h.name]!;
      hostSaes[h.name] = supervised(sae.process, () => sae.restart());
    }

    const operatorFlags = { redisUrl: redisServer.url, migrationCooldown: 5 };
    const operators: Record<string, Supervisor> = {};
    for (const name of ['operator-a', 'operator-b'])
      operators[name] = supervised(undefined, () => runOperatorProcess(tb, name, operatorFlags));

    const receiver = await new Receiver().start();
    stoppers.push(() => receiver.stop());
    const [lcmpPort, lcmpHealthPort] = [await freePort(), await freePort()];
    const lcmp = supervised(
      undefined,
      async () => (await runLcmpProcess(tb, 'lcmp', { port: lcmpPort, healthPort: lcmpHealthPort })).proc,
    );

    const whisks: Record<string, Supervisor> = {};
    for (const h of tb.hosts) {
      const w = tb.whisks[h.name]!;
      whisks[h.name] = supervised(w.process, async () => {
        const proc = startProcess({
          name: w.name,
          command: process.execPath,
          args: ['--import', 'tsx', WHISK_CLI, '--config', w.configFile],
          logFile: w.process.logFile,
        });
        await waitUntil(`whisk-sim ${h.name} back`, async () => (await fetch(`${w.apiHost}/ping`)).ok, {
          timeoutMs: 60_000,
          process: proc,
        });
        return proc;
      });
    }
    const first = tb.kmes.processes[0]!;
    const kmes = supervised(first, () =>
      startKmeProcess(
        tb.kmes.configPath,
        tb.kmes.config,
        tb.kmes.config.kmes.map((k) => k.id),
        { name: first.name, logFile: first.logFile },
      ),
    );

    const world: ChaosWorld = {
      tb,
      cp,
      controlPlane,
      redis: { url: redisServer.url, supervisor: redis },
      proxies,
      operators,
      hostSaes,
      lcmp: {
        url: `http://127.0.0.1:${lcmpPort}`,
        healthUrl: `http://127.0.0.1:${lcmpHealthPort}`,
        supervisor: lcmp,
      },
      receiver,
      whisks,
      kmes,
      stop,
    };
    await eventually(
      'the LCMP serving',
      async () => (await fetch(`${world.lcmp.url}/dev_app/v1/app_list`)).status === 401,
      120_000,
    );
    await eventually(
      'both hosts Ready',
      async () => {
        const out = JSON.parse(await tb.kubectl(['get', 'mechosts', '-o', 'json'])) as {
          items: { status?: { conditions?: { type: string; status: string }[] } }[];
        };
        return out.items.every((h) =>
          h.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
      },
      120_000,
    );
    return world;
  } catch (err) {
    await stop();
    throw err;
  }
}
