// The runner is TypeScript, but a container must start in tens of milliseconds: loading the TypeScript
// loader in every container would add most of a second to each cold start. So the runner is bundled
// to plain JavaScript once per whisk-sim process and containers run that file with plain `node`.
import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

// Resolved through the package, so that a bundled whisk-sim (its image) finds it too.
export const runnerSource = fileURLToPath(import.meta.resolve('@mecqkd/whisk-sim/runtime/runner'));

let script: string | undefined;

/** Path of the bundled runner; content-addressed, so concurrent whisk-sims share it safely. */
export function runnerScript(): string {
  if (script) return script;
  const out = buildSync({
    entryPoints: [runnerSource],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
  });
  const code = out.outputFiles[0]?.text;
  if (!code) throw new Error(`bundling ${runnerSource} produced no output`);
  const file = join(
    tmpdir(),
    `whisk-sim-runner-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`,
  );
  if (!existsSync(file)) {
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, code);
    renameSync(partial, file);
  }
  script = file;
  return file;
}
