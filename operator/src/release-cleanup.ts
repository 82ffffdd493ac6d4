// `operator release-cleanup`: the Helm chart's pre-delete hook. MecHosts carry the operator's
// host-cleanup finalizer, which only a running operator removes (after taking the host's actions off
// its OpenWhisk and handing its contexts on). `helm uninstall` deletes the lab profile's MecHosts and
// the operator together, so they would stay Terminating for ever; the hook deletes them first, while
// the operator still runs, and waits until it has finished with them. As the post-delete hook it also
// deletes the Leases the operator and the LCMP made at run time (Helm never rendered them).
import { booleanFlag, parseSettings, settingsHelp } from '@mecqkd/common/cli-config';
import type { Logger } from '@mecqkd/common/logger';
import { type ApiResource, MEC_HOSTS, QKD_LINKS } from '@mecqkd/crds/api-resources';
import { createKubeClient, type KubeClient } from '@mecqkd/kube/kube-client';
import { isNotFound } from '@mecqkd/kube/kube-errors';
import { collectionPath, objectPath } from '@mecqkd/kube/kube-paths';
import { z } from 'zod';

export const releaseCleanupSchema = z.object({
  kubeconfig: z.string().optional().describe('kubeconfig file; in-cluster or ~/.kube/config when absent'),
  namespace: z.string().min(1).describe('namespace of the release'),
  selector: z
    .string()
    .min(1)
    .optional()
    .describe("label selector of the release's MecHosts and QkdLinks; none are deleted when absent"),
  timeout: z.coerce
    .number()
    .pipe(z.number().min(1))
    .default(120)
    .describe('seconds to wait for the operator'),
  leases: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(',').filter(Boolean) : []))
    .describe('Leases to delete too (comma list), once their holders have gone (post-delete)'),
  dryRun: booleanFlag.default(false).describe('only list what would be deleted'),
});
export type ReleaseCleanup = z.output<typeof releaseCleanupSchema>;

export const releaseCleanupHelp = () =>
  `Usage: operator release-cleanup --namespace <ns> [--selector <labels>] [--leases <names>] [flags]\n\nDeletes a release's MecHosts and QkdLinks and waits until the running operator has finalized them (the chart's pre-delete hook).\n\nFlags:\n${settingsHelp(releaseCleanupSchema)}\n`;

const LEASES: ApiResource = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' };

const deleteIfPresent = (kube: KubeClient, path: string) =>
  kube.delete(path).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
  });

const names = async (kube: KubeClient, path: string, selector: string) =>
  (await kube.list(path, { labelSelector: selector })).items.map((o) => o.metadata.name as string);

/**
 * Deletes the release's MecHosts and QkdLinks (and the Leases named); resolves once no MecHost is left,
 * rejects naming the stuck ones. Returns what it deleted, as plural/name.
 */
export async function releaseCleanup(s: ReleaseCleanup, log: Logger, kube?: KubeClient): Promise<string[]> {
  const client = kube ?? (await createKubeClient(s.kubeconfig ? { kubeconfigPath: s.kubeconfig } : {}));
  try {
    const deleted: string[] = [];
    const selector = s.selector ?? '';
    for (const kind of selector ? [MEC_HOSTS, QKD_LINKS] : []) {
      for (const name of await names(client, collectionPath(kind, s.namespace), selector)) {
        deleted.push(`${kind.plural}/${name}`);
        if (s.dryRun) continue;
        await deleteIfPresent(client, objectPath(kind, s.namespace, name));
        log.info('Deleted', { kind: kind.plural, name, namespace: s.namespace });
      }
    }
    for (const name of s.leases) {
      deleted.push(`leases/${name}`);
      if (s.dryRun) continue;
      await deleteIfPresent(client, objectPath(LEASES, s.namespace, name));
    }
    if (s.dryRun || !selector) return deleted;
    const deadline = Date.now() + s.timeout * 1000;
    for (;;) {
      const left = await names(client, collectionPath(MEC_HOSTS, s.namespace), selector);
      if (left.length === 0) return deleted;
      if (Date.now() > deadline)
        throw new Error(
          `MecHosts ${left.join(', ')} in ${s.namespace} still carry their finalizer after ${s.timeout} s: is the operator running?`,
        );
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    if (!kube) await client.close();
  }
}

export const parseReleaseCleanup = (argv: string[], env: NodeJS.ProcessEnv) =>
  parseSettings(releaseCleanupSchema, argv, env);
