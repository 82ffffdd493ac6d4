// The runtimes manifest (OpenWhisk's runtimes.json shape): which kinds exist, which is each family's
// default, which are deprecated. whisk-sim runs only the nodejs family.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const runtimeSchema = z.object({
  kind: z.string().min(1),
  default: z.boolean().default(false),
  deprecated: z.boolean().default(false),
  image: z.object({ prefix: z.string().optional(), name: z.string(), tag: z.string().optional() }),
  attached: z.unknown().optional(),
  requireMain: z.boolean().default(false),
});
const manifestSchema = z.object({ runtimes: z.record(z.string(), z.array(runtimeSchema)) });
export type Runtime = z.infer<typeof runtimeSchema>;

export interface Runtimes {
  /** `family:default` resolved; undefined when the kind is unknown. */
  resolve(kind: string): Runtime | undefined;
  /** Valid kinds in manifest order, for the "not supported" message. */
  kinds(): string[];
  /** The `runtimes` object of `GET /`. */
  info(): Record<string, unknown[]>;
}

export function loadRuntimes(file: string): Runtimes {
  let manifest: z.infer<typeof manifestSchema>;
  try {
    manifest = manifestSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    throw new Error(`invalid runtimes manifest ${file}: ${(err as Error).message}`);
  }
  const byKind = new Map<string, Runtime>();
  for (const [family, list] of Object.entries(manifest.runtimes)) {
    for (const r of list) {
      byKind.set(r.kind, r);
      if (r.default) byKind.set(`${family}:default`, r);
    }
  }
  const all = Object.values(manifest.runtimes).flat();
  return {
    resolve: (kind) => byKind.get(kind.trim().toLowerCase()),
    kinds: () => all.map((r) => r.kind),
    info: () =>
      Object.fromEntries(
        Object.entries(manifest.runtimes).map(([family, list]) => [
          family,
          list.map((r) => ({
            kind: r.kind,
            image:
              [r.image.prefix, r.image.name].filter(Boolean).join('/') +
              (r.image.tag ? `:${r.image.tag}` : ''),
            deprecated: r.deprecated,
            default: r.default,
            attached: r.attached !== undefined,
            requireMain: r.requireMain,
          })),
        ]),
      ),
  };
}

/** whisk-sim can only execute JavaScript. */
export function isRunnable(kind: string): boolean {
  return kind.startsWith('nodejs:');
}
