// The device app's world for the SDK's end-to-end tests: the real control plane, Redis, two MEC hosts
// (whisk-sim with a host SAE each, 1 GB: eight 128 MB burners overload one, a stream's four busy
// containers do not), kme-sim over mutual TLS, the operator, and the LCMP serving Mx2 over HTTPS
// with a CA of the test's own.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toKubeYaml } from '@mecqkd/common/kube-yaml';
import { createCa, issueCertificate } from '@mecqkd/common/pki';
import type { RunningLcmp } from '@mecqkd/lcmp/lcmp';
import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import type { RunningOperator } from '@mecqkd/operator/operator';
import { CLIENTS, mecApp as lcmpMecApp, registerClient, runLcmp } from '../../../lcmp/test/support.ts';
import { clientKme, runOperator, whisk } from '../../../operator/test/e2e/support.ts';

export { CLIENTS, clientKme, whisk };

/** The app of the tests: its answer depends on its arguments, so a wrong or swapped one shows. */
export const SQUARE = 'function main(p) { return { i: p.i, square: p.i * p.i, tag: p.tag }; }';
const SLEEPER = 'function main(p) { return new Promise((r) => setTimeout(() => r({ slept: p.ms }), p.ms)); }';

/** A MecApp of the given action code, its contexts keyed every `invocationsPerKey` invocations. */
export const mecApp = (name: string, code: string, invocationsPerKey: number) =>
  lcmpMecApp(name, {}, { invocationsPerKey }, { code, limits: { memoryMb: 128 } });

export interface World {
  tb: MecTestbed;
  op: RunningOperator;
  lcmp: RunningLcmp;
  /** PEM file of the CA that signed the LCMP's certificate. */
  caFile: string;
  stop(): Promise<void>;
}

export async function startWorld(prefix: string, apps: unknown[]): Promise<World> {
  const tb = await startMecTestbed({
    namespace: `${prefix}-${Date.now().toString(36)}`,
    hosts: [
      { name: 'host-1', capacityMb: 1024 },
      { name: 'host-2', capacityMb: 1024 },
    ],
  });
  // a moved context stays where it went: the burners' end must not pull it back
  const op = await runOperator(tb, { migrationCooldown: 600 }).catch(async (err) => {
    await tb.stop();
    throw err;
  });
  try {
    return await withLcmp(tb, op, apps);
  } catch (err) {
    await op.stop();
    await tb.stop();
    throw err;
  }
}

async function withLcmp(tb: MecTestbed, op: RunningOperator, apps: unknown[]): Promise<World> {
  await tb.kubectl(['apply', '-f', '-'], apps.map((a) => toKubeYaml(a)).join('---\n'));
  for (const c of Object.values(CLIENTS)) await registerClient(tb, c);
  const ca = await createCa('sdk e2e LCMP CA');
  const leaf = await issueCertificate(ca, { commonName: 'lcmp', ipAddresses: ['127.0.0.1'], server: true });
  const caFile = join(tb.dir, 'lcmp-ca.pem');
  const certFile = join(tb.dir, 'lcmp.pem');
  const keyFile = join(tb.dir, 'lcmp-key.pem');
  writeFileSync(caFile, ca.cert);
  writeFileSync(certFile, leaf.cert);
  writeFileSync(keyFile, leaf.key, { mode: 0o600 });
  const lcmp = await runLcmp(tb, { tlsCert: certFile, tlsKey: keyFile });
  return {
    tb,
    op,
    lcmp,
    caFile,
    async stop() {
      await lcmp.stop();
      await op.stop();
      await tb.stop();
    },
  };
}

export const pem = (path: string) => readFileSync(path);

/** Occupies a host's invoker memory: `n` activations of a 128 MB action sleeping `ms`. */
export async function overload(tb: MecTestbed, hostName: string, n: number, ms: number): Promise<void> {
  const ow = whisk(tb, hostName);
  await ow.actions.update({ name: 'burner', action: SLEEPER, limits: { memory: 128, timeout: 120_000 } });
  for (let i = 0; i < n; i++) await ow.actions.invoke({ name: 'burner', blocking: false, params: { ms } });
}

/** Activations of `action` on a host that ran the app and answered sealed (status success). */
export async function successfulActivations(
  tb: MecTestbed,
  hostName: string,
  action: string,
): Promise<number> {
  const ow = whisk(tb, hostName);
  let n = 0;
  for (let skip = 0; ; skip += 200) {
    const page = (await ow.activations.list({ name: action, limit: 200, skip, docs: true })) as unknown as {
      response?: { status?: string };
    }[];
    n += page.filter((a) => a.response?.status === 'success').length;
    if (page.length < 200) return n;
  }
}
