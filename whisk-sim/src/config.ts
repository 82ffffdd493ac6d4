// whisk-sim configuration: one file (YAML or JSON) or CLI flags describe one simulated OpenWhisk
// deployment. Defaults are OpenWhisk's own (application.conf, ansible group_vars), so a bare
// whisk-sim behaves like a fresh OpenWhisk with the dev `guest` key.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** OpenWhisk's dev credentials (ansible/files/auth.guest), so clients configured for a dev OpenWhisk work. */
export const GUEST_UUID = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502';
export const GUEST_KEY = '123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Per-namespace throttles; a namespace entry may override any of them, as `wskadmin limits set` does. */
const throttleOverridesSchema = z.object({
  invocationsPerMinute: z.number().int().positive().optional(),
  concurrentInvocations: z.number().int().positive().optional(),
  firesPerMinute: z.number().int().positive().optional(),
});
export const throttlesSchema = z.object({
  invocationsPerMinute: z.number().int().positive().default(60),
  concurrentInvocations: z.number().int().positive().default(30),
  firesPerMinute: z.number().int().positive().default(60),
});
export type Throttles = z.infer<typeof throttlesSchema>;

export const namespaceSchema = z.object({
  name: z.string().regex(/^[\w][\w@.-]*$/, 'namespace names are word characters, @ . -'),
  uuid: z.string().regex(uuidPattern, 'uuid must be a lowercase UUID'),
  key: z.string().regex(/^[A-Za-z0-9]{64}$/, 'key must be 64 alphanumeric characters'),
  /** Shown as `subject` in activation records. */
  subject: z.string().min(1).optional(),
  limits: throttleOverridesSchema.default({}),
  /**
   * Environment of every container of the namespace's actions, as a deployment would set it (on
   * Kubernetes: the service-link variables of the Services in OpenWhisk's namespace).
   */
  containerEnv: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string()).default({}),
});
export type NamespaceConfig = z.infer<typeof namespaceSchema>;

/** System-wide action limits (OpenWhisk `whisk.*-limit` settings). */
export const actionLimitsSchema = z.object({
  minMemoryMb: z.number().int().positive().default(128),
  maxMemoryMb: z.number().int().positive().default(512),
  stdMemoryMb: z.number().int().positive().default(256),
  minTimeoutMs: z.number().int().positive().default(100),
  maxTimeoutMs: z.number().int().positive().default(300_000),
  stdTimeoutMs: z.number().int().positive().default(60_000),
  minLogsMb: z.number().int().nonnegative().default(0),
  maxLogsMb: z.number().int().nonnegative().default(10),
  stdLogsMb: z.number().int().nonnegative().default(10),
  maxConcurrency: z.number().int().positive().default(1),
  /** Invoke body and action result limit (bytes). */
  maxPayloadBytes: z.number().int().positive().default(1_048_576),
  /** Longest blocking wait a caller may ask for (ms). */
  maxBlockingWaitMs: z.number().int().positive().default(60_000),
});
export type ActionLimitsConfig = z.infer<typeof actionLimitsSchema>;

const tlsSchema = z.union([
  z.object({ certFile: z.string().min(1), keyFile: z.string().min(1) }),
  /** `selfSigned: true` makes a throw-away CA and certificate for 127.0.0.1/localhost at start. */
  z.object({ selfSigned: z.literal(true) }),
]);

export const configSchema = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(3233),
  tls: tlsSchema.optional(),
  /** The API host handed to actions as `__OW_API_HOST`; defaults to the listening URL. */
  apiHost: z.string().optional(),
  namespaces: z
    .array(namespaceSchema)
    .min(1)
    .default([{ name: 'guest', uuid: GUEST_UUID, key: GUEST_KEY, limits: {}, containerEnv: {} }]),
  throttles: throttlesSchema.default({
    invocationsPerMinute: 60,
    concurrentInvocations: 30,
    firesPerMinute: 60,
  }),
  limits: actionLimitsSchema.default(actionLimitsSchema.parse({})),
  /** The invoker's user memory: total MB of action containers (OpenWhisk `containerPool.userMemory`). */
  capacityMb: z.number().int().positive().default(1024),
  /** How long a container may take to start, apart from the action's time limit (OpenWhisk: docker run, 1 min). */
  containerStartTimeoutMs: z.number().int().positive().default(60_000),
  /** Idle warm containers are removed after this long (OpenWhisk: 10 min). */
  idleContainerMs: z.number().int().positive().default(600_000),
  /** Activation records kept in memory, oldest dropped first. */
  maxActivations: z.number().int().positive().default(10_000),
  /**
   * Activation records older than this (since completion) are dropped too: OpenWhisk's activation
   * store keeps records for a retention period (days, in a database); whisk-sim keeps them in its
   * heap, where a steady 2 activations/s would otherwise take 10,000 records (~10 MB) before the count
   * bound holds. 10 min is ample for any reader of a test or demo run.
   */
  activationRetentionSeconds: z.number().int().positive().default(600),
  runtimesFile: z.string().default(fileURLToPath(new URL('../runtimes.json', import.meta.url))),
  logLevel: z.enum(['error', 'warn', 'info', 'debug', 'silent']).default('info'),
});
export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

export function parseConfig(input: unknown, source = 'configuration'): Config {
  const result = configSchema.safeParse(input);
  if (!result.success) throw new Error(`invalid whisk-sim ${source}: ${z.prettifyError(result.error)}`);
  const config = result.data;
  const seen = new Set<string>();
  for (const ns of config.namespaces) {
    if (seen.has(ns.uuid)) throw new Error(`invalid whisk-sim ${source}: uuid ${ns.uuid} is used twice`);
    seen.add(ns.uuid);
  }
  return config;
}

/** Reads a YAML or JSON file; relative paths inside it are relative to the file. */
export function loadConfigFile(file: string): Config {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read whisk-sim config ${file}: ${(err as Error).message}`);
  }
  const config = parseConfig(raw ?? {}, `config ${file}`);
  const base = dirname(resolve(file));
  if (config.tls && 'certFile' in config.tls) {
    config.tls = { certFile: resolve(base, config.tls.certFile), keyFile: resolve(base, config.tls.keyFile) };
  }
  if (raw && typeof raw === 'object' && 'runtimesFile' in raw)
    config.runtimesFile = resolve(base, config.runtimesFile);
  return config;
}

/** A namespace's effective throttles: its overrides over the system defaults. */
export function throttlesFor(config: Config, ns: NamespaceConfig): Throttles {
  const overrides = Object.entries(ns.limits).filter(([, v]) => v !== undefined);
  return { ...config.throttles, ...Object.fromEntries(overrides) };
}
