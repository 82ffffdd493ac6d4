// The TCP connections the system makes on the one-node cluster, read from the node's conntrack
// table (run inside the node's network namespace), each with the pods that held its two addresses
// when it was first seen — so that the chart's NetworkPolicies can be judged against real traffic.
import { execFile } from 'node:child_process';
import type { Connection, Pod } from '../../src/network-policy.ts';
import { holdsIp, podSchema } from '../../src/network-policy.ts';

/**
 * `conntrack -L -p tcp` lines: the first tuple is the connection as the client made it, the second
 * the reply, whose source is the server that really answered (a Service's ClusterIP is DNAT'ed).
 */
export function parseConntrack(text: string): Connection[] {
  const out: Connection[] = [];
  for (const line of text.split('\n')) {
    const src = [...line.matchAll(/\bsrc=(\S+)/g)].map((m) => m[1] as string);
    const sport = [...line.matchAll(/\bsport=(\d+)/g)].map((m) => Number(m[1]));
    if (!line.startsWith('tcp') || src.length < 2 || sport.length < 2) continue;
    out.push({ clientIp: src[0] as string, serverIp: src[1] as string, serverPort: sport[1] as number });
  }
  return out;
}

export interface SeenConnection extends Connection {
  /** Every pod of the cluster at the sample that first saw the connection (see podsAround). */
  pods: Pod[];
}

/**
 * The pods of sample `k`, plus, for each of `ips` no pod held then, the pod that held it at the
 * sample before (one that opened the connection and died before sample k saw it) or else after
 * (one that connected before its podIP reached its status).
 */
export function podsAround(samples: Pod[][], k: number, ips: string[]): Pod[] {
  const pods = [...(samples[k] ?? [])];
  for (const ip of ips) {
    if (pods.some((p) => holdsIp(p, ip))) continue;
    const holder = [samples[k - 1], samples[k + 1]].flatMap((s) => s ?? []).find((p) => holdsIp(p, ip));
    if (holder) pods.push(holder);
  }
  return pods;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout),
    ),
  );
}

export interface ConnectionRecorder {
  /** One more sample now (also what the timer does). */
  sample(): Promise<void>;
  seen(): SeenConnection[];
  /** Why samples failed, if they did: a recorder that saw nothing must not pass as "all allowed". */
  errors(): string[];
  stop(): Promise<void>;
}

/** Samples conntrack and the pods every `periodMs` (TIME_WAIT keeps a closed connection 120 s). */
export function recordConnections(kubectl: string, periodMs = 5_000): ConnectionRecorder {
  const samples: Pod[][] = [];
  const seen = new Map<string, { c: Connection; k: number }>();
  const errors: string[] = [];
  let running: Promise<void> = Promise.resolve();
  const sample = async () => {
    try {
      const [table, podList] = await Promise.all([
        run('conntrack', ['-L', '-p', 'tcp']),
        run(kubectl, ['get', 'pods', '-A', '-o', 'json']),
      ]);
      const k = samples.push((JSON.parse(podList).items as unknown[]).map((p) => podSchema.parse(p))) - 1;
      for (const c of parseConntrack(table)) {
        const key = `${c.clientIp}>${c.serverIp}:${c.serverPort}`;
        if (!seen.has(key)) seen.set(key, { c, k });
      }
    } catch (err) {
      errors.push((err as Error).message);
    }
  };
  const timer = setInterval(() => {
    running = running.then(sample);
  }, periodMs);
  return {
    sample: () => {
      running = running.then(sample);
      return running;
    },
    seen: () =>
      [...seen.values()].map(({ c, k }) => ({
        ...c,
        pods: podsAround(samples, k, [c.clientIp, c.serverIp]),
      })),
    errors: () => [...errors],
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
