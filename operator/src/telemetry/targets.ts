// What telemetry is collected for: MecHosts and QkdLinks as the reconcilers know them. Built from the CRs
// and validated here, at the boundary.
import { z } from 'zod';

const objectKey = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected "namespace/name"');

const tls = z.object({
  /** PEM: the CA that signed the server certificate. */
  ca: z.string().min(1),
  /** PEM client certificate and key, for servers that require mutual TLS (KMEs). */
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
});

export const hostTarget = z.object({
  /** "namespace/name" of the MecHost. */
  host: objectKey,
  /** Value of the host label on this host's Prometheus series; default: the MecHost name. */
  label: z.string().min(1).optional(),
  /** For the direct scrape: the host OpenWhisk's /metrics (MecHost spec.metricsUrl). */
  metricsUrl: z.url().optional(),
  /** Accept a self-signed certificate (MecHost spec.openwhisk.insecure). */
  insecure: z.boolean().default(false),
});

export const kmeEndpoint = z.object({
  kmeId: z.string().min(1),
  /** For the direct scrape: the KME's /metrics (HTTPS with `tls`, or kme-sim's plain ops port). */
  metricsUrl: z.url().optional(),
  tls: tls.optional(),
});

export const linkTarget = z.object({
  /** "namespace/name" of the QkdLink. */
  link: objectKey,
  /** Source and target KMEs (QkdLink spec.source / spec.target). */
  ends: z.tuple([kmeEndpoint, kmeEndpoint]),
});

export type HostTarget = z.input<typeof hostTarget>;
export type KmeEndpoint = z.infer<typeof kmeEndpoint>;
export type LinkTarget = z.infer<typeof linkTarget>;

export function parseTargets(hosts: unknown[], links: unknown[]) {
  const parse = <T>(schema: z.ZodType<T>, what: string, input: unknown) => {
    const r = schema.safeParse(input);
    if (!r.success) throw new Error(`invalid ${what} telemetry target: ${z.prettifyError(r.error)}`);
    return r.data;
  };
  return {
    hosts: hosts.map((h) => parse(hostTarget, 'host', h)),
    links: links.map((l) => parse(linkTarget, 'link', l)),
  };
}

/** The MecHost name of "namespace/name". */
export const hostName = (key: string) => key.slice(key.indexOf('/') + 1);
