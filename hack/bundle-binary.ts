// Bundles a component's binary for `make build`: its workspace packages (TypeScript) compiled in,
// every npm package that it or those workspaces depend on left external. Running the bundle with
// plain node skips tsx's loader thread and per-start compilation: about 70 MB less RSS and a faster
// start.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const npmDeps = (dir: string): string[] =>
  Object.keys(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies ?? {}).filter(
    (d) => !d.startsWith('@mecqkd/'),
  );

/**
 * `component` is the folder under the repository root; `workspaces` those whose npm deps it reaches;
 * `entry` the module bundled, relative to the component.
 */
export async function bundleBinary(
  component: string,
  outName: string,
  workspaces: string[],
  entry = join('src', 'main.ts'),
): Promise<void> {
  const root = join(import.meta.dirname, '..');
  const dir = join(root, component);
  const external = [...new Set([dir, ...workspaces.map((w) => join(root, w))].flatMap(npmDeps))];
  await build({
    entryPoints: { [outName.replace(/\.mjs$/, '')]: join(dir, entry) },
    outdir: join(dir, 'dist'),
    outExtension: { '.js': '.mjs' },
    // a dynamic import() becomes a chunk of its own, so what only one command needs loads only then
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    external,
    logLevel: 'warning',
  });
  console.log(`built ${component}/dist/${outName}`);
}
