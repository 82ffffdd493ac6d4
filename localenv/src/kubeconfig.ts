import { stringify } from 'yaml';

/** A kubeconfig with one cluster, user and context, credentials embedded. */
export function kubeconfigYaml(
  opts: { name: string; server: string; caPem: string } & (
    | { certPem: string; keyPem: string }
    | { token: string }
  ),
): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const user =
    'token' in opts
      ? { token: opts.token }
      : { 'client-certificate-data': b64(opts.certPem), 'client-key-data': b64(opts.keyPem) };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: opts.name, cluster: { server: opts.server, 'certificate-authority-data': b64(opts.caPem) } },
    ],
    users: [{ name: opts.name, user }],
    contexts: [{ name: opts.name, context: { cluster: opts.name, user: opts.name } }],
    'current-context': opts.name,
  });
}
