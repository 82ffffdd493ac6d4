// What a `mecqkd` command is: a name (one or two words), its flags and a run function. The global
// flags apply to every command; each flag may also come from the environment as MECQKD_<FLAG>.
import type { Readable, Writable } from 'node:stream';
import type { Output } from './output.ts';
import type { Settings } from './settings.ts';

export interface OptionSpec {
  name: string;
  type: 'string' | 'boolean';
  description: string;
  /** Shown in help; what the command assumes when the flag is absent. */
  default?: string;
  short?: string;
  multiple?: boolean;
  /** Read MECQKD_<NAME> when the flag is absent (secrets: prefer the environment). */
  env?: boolean;
}

export type Flags = Record<string, string | boolean | string[] | undefined>;

export interface CommandContext {
  flags: Flags;
  positionals: string[];
  out: Output;
  settings: Settings;
  stdin: Readable;
  stderr: Writable;
  /** Aborted on SIGINT/SIGTERM: long-running commands end cleanly. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  summary: string;
  /** Positional arguments, for the usage line, e.g. "<contextId>". */
  args?: string;
  /** Longer help text after the usage line. */
  description?: string;
  options?: OptionSpec[];
  /** The exit code; 0 when it returns nothing. */
  run(ctx: CommandContext): Promise<number | undefined>;
}

/** A usage mistake: exit code 1 with the message and a pointer to --help. */
export class UsageError extends Error {}

export const str = (flags: Flags, name: string): string | undefined => {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
};

export const need = (flags: Flags, name: string): string => {
  const v = str(flags, name);
  if (v === undefined || v === '') throw new UsageError(`--${name} is required`);
  return v;
};

export const int = (flags: Flags, name: string, fallback: number, min = 0): number => {
  const v = str(flags, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer ≥ ${min}`);
  return Number(v);
};
