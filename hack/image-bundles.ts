// The one build step every component's Dockerfile shares (so a layer cache runs it once for all the
// images): bundles each component with its npm packages compiled in, and lays out per component
// the few files it still needs at run time, under OUT/<component>/ as the image's /app.
// Only esbuild stays a package: it is a native binary, and the operator (action wrapper) and
// whisk-sim (action runner) bundle TypeScript with it while running. Those run-time entry points
// are found through their packages (node_modules/@mecqkd/… symlinks), so their sources are copied
// with exactly the files they import, as esbuild's metafile lists them.
// Usage (in the Dockerfiles): esbuild hack/image-bundles.ts --outfile=hack/image-bundles.mjs …, then
// node hack/image-bundles.mjs OUT (or node --import tsx hack/image-bundles.ts OUT)
import { cpSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

interface Component {
  entry: string;
  /** files and folders read at run time, relative to the repository root */
  assets: string[];
  /** TypeScript entry points esbuild bundles at run time */
  runtimeEntries: string[];
}

const components: Record<string, Component> = {
  operator: {
    entry: 'operator/src/main.ts',
    assets: [],
    runtimeEntries: ['host-sae/src/wrapper/runtime.ts'],
  },
  lcmp: { entry: 'lcmp/src/main.ts', assets: ['lcmp/openapi'], runtimeEntries: [] },
  'kme-sim': { entry: 'kme-sim/src/cli.ts', assets: [], runtimeEntries: [] },
  'whisk-sim': {
    entry: 'whisk-sim/src/cli.ts',
    assets: ['whisk-sim/runtimes.json'],
    runtimeEntries: ['whisk-sim/src/runtime/runner.ts'],
  },
  'host-sae': { entry: 'host-sae/src/cli.ts', assets: [], runtimeEntries: [] },
};

const root = join(import.meta.dirname, '..');

// Bundled CommonJS packages call require() for node: built-ins; ESM output has none of its own.
const banner =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

const inputsOf = async (entries: string[]): Promise<string[]> => {
  const { metafile } = await build({
    entryPoints: entries.map((e) => join(root, e)),
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    outdir: '/nonexistent',
    metafile: true,
    absWorkingDir: root,
    logLevel: 'warning',
  });
  // keys are relative to absWorkingDir
  return Object.keys((metafile as Metafile).inputs);
};

const copy = (from: string, to: string) => cpSync(join(root, from), join(to, from), { recursive: true });

/** Lays out component `name`'s /app in the folder `app`. */
export async function bundleComponent(name: keyof typeof components, app: string): Promise<void> {
  const c = components[name] as Component;
  await build({
    entryPoints: [join(root, c.entry)],
    outfile: join(app, name, 'dist', `${name}.mjs`),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // stack traces name the file and line; the sources themselves stay out of the image
    sourcemap: 'linked',
    sourcesContent: false,
    external: ['esbuild'],
    banner: { js: banner },
    logLevel: 'warning',
  });
  for (const a of c.assets) copy(a, app);
  if (c.runtimeEntries.length > 0) {
    for (const p of ['node_modules/esbuild', 'node_modules/@esbuild']) copy(p, app);
    const workspaces = new Set<string>();
    for (const file of await inputsOf(c.runtimeEntries)) {
      if (file.startsWith('..') || file.startsWith('node_modules'))
        throw new Error(`${file}: not a workspace file`);
      copy(file, app);
      workspaces.add(file.split('/')[0] as string);
    }
    for (const w of workspaces) {
      copy(`${w}/package.json`, app);
      const link = join(app, 'node_modules', '@mecqkd', w);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(join('..', '..', w), link);
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: image-bundles.ts OUT');
  rmSync(out, { recursive: true, force: true });
  await Promise.all(
    Object.keys(components).map(async (name) => {
      const t0 = Date.now();
      await bundleComponent(name, join(out, name));
      console.log(`bundled ${name} in ${Date.now() - t0} ms`);
    }),
  );
}
