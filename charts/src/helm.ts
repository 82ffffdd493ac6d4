// Runs the project-built helm (never a helm found on PATH: lint and template must use the pinned
// version, whose Kubernetes capabilities are stamped at build time).
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helmBinary } from '@mecqkd/localenv/binaries';

export const CHART_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'mecqkd');

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[], env: Record<string, string> = {}): Promise<HelmResult> {
  return new Promise((resolve) => {
    execFile(
      helmBinary(),
      args,
      { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** `helm template` of the chart; throws with helm's message when rendering fails. */
export async function renderChart(release: string, namespace: string, set: string[] = []): Promise<string> {
  const r = await helm([
    'template',
    release,
    CHART_DIR,
    '--namespace',
    namespace,
    ...set.flatMap((s) => ['--set', s]),
  ]);
  if (r.code !== 0) throw new Error(`helm template ${set.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}
