// Settings of a mecqkd binary: flags (--name value or --name=value) override environment variables
// (MECQKD_NAME), which override the schema's defaults. A zod object validates them; a bad value stops
// the program with the flag named.
import { z } from 'zod';

/** A boolean setting: true/false from a flag or the environment; the flag alone means true. */
export const booleanFlag = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const isBooleanFlag = (s: unknown) =>
  s === booleanFlag || (s as z.ZodType).def?.['innerType' as never] === booleanFlag;

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
export const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const envName = (key: string) => `MECQKD_${kebab(key).replace(/-/g, '_').toUpperCase()}`;

export function parseSettings<S extends z.ZodObject>(
  schema: S,
  argv: string[],
  env: NodeJS.ProcessEnv,
): z.output<S> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[envName(key)];
    if (v !== undefined) raw[key] = v;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const key = camel(flag);
    if (!(key in schema.shape)) throw new Error(`unknown flag --${flag} (see --help)`);
    const next = argv[i + 1];
    const bare = eq < 0 && isBooleanFlag(schema.shape[key]) && (next === undefined || next.startsWith('--'));
    raw[key] = bare ? 'true' : eq < 0 ? argv[++i] : arg.slice(eq + 1);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `--${kebab(String(i.path[0]))}: ${i.message}`);
    throw new Error(`invalid configuration: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/** One line per flag: name, description, default and the environment variable. */
export function settingsHelp(schema: z.ZodObject): string {
  return Object.entries(schema.shape)
    .map(([key, s]) => {
      const def = (s as z.ZodType).def as { defaultValue?: unknown };
      const d = def.defaultValue === undefined ? '' : ` (default ${JSON.stringify(def.defaultValue)})`;
      return `  --${kebab(key).padEnd(26)} ${(s as z.ZodType).description ?? ''}${d}  [${envName(key)}]`;
    })
    .join('\n');
}
