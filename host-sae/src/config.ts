// Configuration of one host SAE (YAML or JSON file): where it listens, its server certificate for
// the wrapper channel, its QKD 014 identity towards the host KME, the wrapper secret, the key window.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

const file = z.string().min(1);

export const hostSaeConfigSchema = z.strictObject({
  saeId: z.string().min(1),
  host: z.string().default('127.0.0.1'),
  port: z.int().min(0).max(65535).default(8443),
  /** Plain HTTP for /metrics and /healthz. */
  opsPort: z.int().min(0).max(65535).default(9443),
  tls: z.strictObject({ cert: file, key: file }).describe('server certificate for the wrapper channel'),
  kme: z.strictObject({ url: z.url(), ca: file, cert: file, key: file }),
  /** File holding the secret the deployed action wrapper presents (bearer). */
  wrapperSecretFile: file,
  /** T: how long a fetched key serves invocations, seconds. */
  keyLifetimeSeconds: z.number().positive().default(300),
  /** Where the per-context key allowance is kept (run-time data; never key IDs or material). */
  redis: z.strictObject({ url: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL') }),
  logLevel: z.enum(['error', 'warn', 'info', 'debug', 'silent']).default('info'),
});
export type HostSaeConfig = z.infer<typeof hostSaeConfigSchema>;

export function loadHostSaeConfig(path: string): HostSaeConfig {
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read host SAE config ${path}: ${(err as Error).message}`);
  }
  const parsed = hostSaeConfigSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${path}: ${z.prettifyError(parsed.error)}`);
  const c = parsed.data;
  const at = (p: string) => resolve(dirname(resolve(path)), p);
  return {
    ...c,
    tls: { cert: at(c.tls.cert), key: at(c.tls.key) },
    kme: { ...c.kme, ca: at(c.kme.ca), cert: at(c.kme.cert), key: at(c.kme.key) },
    wrapperSecretFile: at(c.wrapperSecretFile),
  };
}
