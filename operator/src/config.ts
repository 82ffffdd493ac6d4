// Operator settings: flags (--name value) override environment variables (MECQKD_NAME), which
// override defaults. Validated by zod; a bad value stops the operator with the field named.
import { booleanFlag as bool, parseSettings, settingsHelp } from '@mecqkd/common/cli-config';
import { z } from 'zod';
import { DEFAULT_WEIGHTS } from './placement/score.ts';

const num = z.coerce.number();

export const operatorConfigSchema = z.object({
  kubeconfig: z.string().optional().describe('kubeconfig file; in-cluster or ~/.kube/config when absent'),
  namespace: z.string().optional().describe('watch only this namespace; all namespaces when absent'),
  workers: num.pipe(z.int().min(1).max(256)).default(16).describe('concurrent AppContext reconciles'),
  kubeConnections: num
    .pipe(z.int().min(1).max(256))
    .default(32)
    .describe('keep-alive connections to the apiserver'),
  probePeriod: num.pipe(z.number().min(0.1)).default(10).describe('seconds between MecHost/QkdLink probes'),
  telemetryPeriod: num.pipe(z.number().min(0.1)).default(5).describe('seconds between telemetry polls'),
  maxTelemetryAge: num
    .pipe(z.number().min(0.1))
    .default(30)
    .describe('seconds after which telemetry is stale'),
  telemetry: z.enum(['prometheus', 'scrape']).default('scrape').describe('telemetry source'),
  prometheusUrl: z.string().optional().describe('Prometheus server base URL (telemetry=prometheus)'),
  redisUrl: z.string().default('redis://127.0.0.1:6379').describe('Redis (telemetry store)'),
  optimisePeriod: num
    .pipe(z.number().min(0))
    .default(30)
    .describe('seconds between optimisation rounds; 0 = off'),
  maxMigrationsPerRound: num.pipe(z.int().min(0)).default(5).describe('migrations per optimisation round'),
  minScoreGain: num.pipe(z.number().min(0).max(1)).default(0.05).describe('score gain a migration needs'),
  migrationCooldown: num.pipe(z.number().min(0)).default(60).describe('seconds a moved context stays put'),
  loadMargin: num
    .pipe(z.number().min(0).max(1))
    .default(0.1)
    .describe('hysteresis below maxLoad for targets'),
  keyMargin: num.pipe(z.number().min(0).max(1)).default(0.1).describe('hysteresis above minKeyAvailability'),
  keyRateMargin: num
    .pipe(z.number().min(0).max(1))
    .default(0.1)
    .describe('an over-committed QKD hop sheds contexts until this fraction of its key rate is spare'),
  drainHorizon: num
    .pipe(z.number().min(0))
    .optional()
    .describe(
      'seconds a draining QKD hop must hold out before its contexts move; 0 = availability rule; default optimise period + max telemetry age',
    ),
  policy: z.enum(['best', 'weighted-random']).default('best').describe('choice among feasible hosts'),
  weightLoad: num.default(DEFAULT_WEIGHTS.load).describe('score weight of low load'),
  weightKeys: num.default(DEFAULT_WEIGHTS.keyAvailability).describe('score weight of key availability'),
  weightPath: num.default(DEFAULT_WEIGHTS.pathLength).describe('score weight of short key paths'),
  weightContexts: num.default(DEFAULT_WEIGHTS.contexts).describe('score weight of few contexts'),
  weightKeyHeadroom: num
    .default(DEFAULT_WEIGHTS.keyHeadroom)
    .describe("score weight of spare key rate on the key path's tightest hop"),
  maxHops: num.pipe(z.int().min(1).max(8)).default(3).describe('most QKD hops between client and host KME'),
  expectedActivationMs: num
    .pipe(z.number().min(1))
    .default(100)
    .describe('activation time used to estimate load'),
  pendingRetry: num
    .pipe(z.number().min(0.1))
    .default(30)
    .describe('seconds before a Pending context is retried'),
  allowInsecureHosts: bool
    .default(false)
    .describe('accept MecHosts with a plain-http apiHost or spec.openwhisk.insecure (development only)'),
  leaderElect: bool.default(true).describe('run only while holding the Lease'),
  leaseName: z.string().default('mecqkd-operator').describe('Lease name'),
  leaseNamespace: z.string().default('default').describe('Lease namespace'),
  leaseDuration: num.pipe(z.number().min(1)).default(15).describe('seconds'),
  renewDeadline: num.pipe(z.number().min(1)).default(10).describe('seconds'),
  retryPeriod: num.pipe(z.number().min(0.1)).default(2).describe('seconds'),
  cacheSyncTimeout: num
    .pipe(z.number().min(1))
    .default(120)
    .describe('seconds the leader waits for its caches to sync before it exits'),
  identity: z.string().optional().describe('leader-election identity; hostname_pid when absent'),
  healthPort: num
    .pipe(z.int().min(0).max(65535))
    .default(8081)
    .describe('/healthz, /readyz and /metrics; 0 = any free port'),
  healthAddress: z
    .string()
    .min(1)
    .default('0.0.0.0')
    .describe(
      'address of --health-port: 0.0.0.0 (every interface, for kubelet probes and Prometheus in a pod), 127.0.0.1 (this machine)',
    ),
  seed: num.pipe(z.int()).optional().describe('seed of the weighted-random policy (reproducible runs)'),
  wrapperSecretFile: z
    .string()
    .optional()
    .describe('file with the secret host SAEs expect from the action wrapper; absent = actions unwrapped'),
  hostSaeCaFile: z.string().optional().describe('PEM of the CA of the host SAEs (pinned by the wrapper)'),
});

export type OperatorConfig = z.output<typeof operatorConfigSchema>;

export const parseOperatorConfig = (argv: string[], env: NodeJS.ProcessEnv): OperatorConfig =>
  parseSettings(operatorConfigSchema, argv, env);

export function helpText(): string {
  return `Usage: operator [flags]\n\nThe mecqkd MEC Orchestrator: reconciles MecHost, MecApp, AppContext and QkdLink.\n\nFlags:\n${settingsHelp(operatorConfigSchema)}\n  --help                     this text\n`;
}
