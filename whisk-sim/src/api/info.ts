// The unauthenticated documents: `GET /api/v1` and `GET /` (infoswagger.json's Info).
import type { Config } from '../config.ts';
import type { Runtimes } from '../runtimes.ts';

export function apiInfo(): Record<string, unknown> {
  return {
    description: 'OpenWhisk API',
    api_version: '1.0.0',
    api_version_path: 'v1',
    build: 'whisk-sim',
    buildno: '0.1.0',
    swagger_paths: { ui: '/docs', 'api-docs': '/api-docs' },
  };
}

export function deploymentInfo(config: Config, runtimes: Runtimes): Record<string, unknown> {
  return {
    description: 'OpenWhisk',
    support: { github: 'mecqkd whisk-sim', slack: '' },
    api_paths: ['/api/v1'],
    limits: {
      actions_per_minute: config.throttles.invocationsPerMinute,
      triggers_per_minute: config.throttles.firesPerMinute,
      concurrent_actions: config.throttles.concurrentInvocations,
      sequence_length: 50,
      min_action_duration: config.limits.minTimeoutMs,
      max_action_duration: config.limits.maxTimeoutMs,
      min_action_memory: config.limits.minMemoryMb * 1024 * 1024,
      max_action_memory: config.limits.maxMemoryMb * 1024 * 1024,
      min_action_logs: config.limits.minLogsMb * 1024 * 1024,
      max_action_logs: config.limits.maxLogsMb * 1024 * 1024,
    },
    runtimes: runtimes.info(),
  };
}
