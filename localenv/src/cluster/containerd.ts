// The node's containerd: its own root, state, socket and runc root under the run directory, started
// inside the node's network namespace (CNI then plumbs pods into that namespace, not the host's).
// Images come from OCI archives (no registry): `ctr images import` loads them into the k8s.io
// namespace the CRI plugin serves.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cniConflist, containerdConfigToml, type NodeLayout, paths } from './config-files.ts';
import { type Daemon, daemon, waitFor } from './daemon.ts';
import type { NodeNetwork } from './netns.ts';
import { must, run } from './run.ts';

export async function startContainerd(net: NodeNetwork, layout: NodeLayout): Promise<Daemon> {
  const p = paths(layout.runDir);
  for (const d of [join(p.containerdConfig, '..'), p.cniConfDir, p.cniIpamDir, p.logs])
    mkdirSync(d, { recursive: true });
  writeFileSync(p.containerdConfig, containerdConfigToml(layout));
  writeFileSync(join(p.cniConfDir, '10-mecqkd.conflist'), cniConflist(layout));
  const proc = daemon(net, layout.runDir, 'containerd', 'containerd', [
    '--config',
    p.containerdConfig,
    '--log-level',
    'warn',
  ]);
  await waitFor('containerd socket', async () => (await ctr(layout.runDir, ['version'])).code === 0, {
    timeoutMs: 30_000,
    needs: [proc],
    intervalMs: 50,
  });
  return proc;
}

export function ctr(runDir: string, args: string[]) {
  return run('ctr', ['--address', paths(runDir).containerdSocket, '--namespace', 'k8s.io', ...args]);
}

/** The image name an OCI archive (skopeo's oci-archive:FILE:NAME) was written with. */
export async function archiveImageName(archive: string): Promise<string> {
  const index = JSON.parse(await must('tar', ['-xOf', archive, 'index.json'])) as {
    manifests?: { annotations?: Record<string, string> }[];
  };
  const name = index.manifests?.[0]?.annotations?.['org.opencontainers.image.ref.name'];
  if (!name?.includes('/'))
    throw new Error(`${archive}: index.json names no image (org.opencontainers.image.ref.name)`);
  return name;
}

/**
 * Loads OCI archives into the node's containerd; returns the image names, in order. ctr reads an
 * OCI archive whose ref.name is a full reference directly (no docker-archive copy through skopeo:
 * that doubled the time, which is mostly gunzip, under load).
 */
export async function importImages(runDir: string, archives: string[]): Promise<string[]> {
  const names: string[] = [];
  for (const archive of archives) {
    const name = await archiveImageName(archive);
    const imported = await ctr(runDir, ['images', 'import', archive]);
    if (imported.code !== 0)
      throw new Error(`importing ${archive} (${name}) failed: ${imported.stderr.trim()}`);
    names.push(name);
  }
  return names;
}
