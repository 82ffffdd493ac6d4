// `mecqkd status`: the MEC system at a glance, read from the cluster through the kubeconfig (the
// operator's view, not a device app's): hosts, QKD links, contexts, actions per host, keys left.
import { collectionPath } from '@mecqkd/kube/kube-paths';
import type { KubeObject } from '@mecqkd/kube/types';
import { APP_CONTEXTS, MEC_HOSTS, QKD_LINKS } from '@mecqkd/operator/controllers/resources';
import { formatStatus, type SystemView } from '../../observe/status-view.ts';
import { type Command, str } from '../command.ts';

export const status: Command = {
  name: 'status',
  summary: 'hosts, QKD links, contexts, actions per host and keys left (reads the cluster)',
  description:
    'Uses the kubeconfig ($KUBECONFIG or ~/.kube/config, or --kubeconfig) with read access to the mecqkd.io resources.',
  options: [
    { name: 'kubeconfig', type: 'string', env: true, description: 'kubeconfig file' },
    {
      name: 'namespace',
      short: 'n',
      type: 'string',
      env: true,
      description: 'namespace',
      default: 'default',
    },
  ],
  async run({ flags, out }) {
    const kubeconfig = str(flags, 'kubeconfig');
    // Loaded here, not at start: the Kubernetes client is most of what every other command would load.
    const { createKubeClient } = await import('@mecqkd/kube/kube-client');
    const kube = await createKubeClient({ ...(kubeconfig ? { kubeconfigPath: kubeconfig } : {}) });
    const ns = str(flags, 'namespace') ?? 'default';
    try {
      const list = async <T extends KubeObject>(r: typeof MEC_HOSTS) =>
        (await kube.list<T>(collectionPath(r, ns))).items;
      const view = {
        hosts: await list(MEC_HOSTS),
        links: await list(QKD_LINKS),
        contexts: await list(APP_CONTEXTS),
      } as SystemView;
      out.result(view, formatStatus(view));
    } finally {
      await kube.close();
    }
    return undefined;
  },
};
