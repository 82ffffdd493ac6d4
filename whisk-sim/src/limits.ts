// Action limits (timeout, memory, logs, concurrency): defaults on create, kept fields on update, and
// OpenWhisk's range checks and messages.
import { z } from 'zod';
import type { ActionLimitsConfig } from './config.ts';
import { HttpError, messages } from './errors.ts';

export const actionLimitsInputSchema = z
  .object({
    timeout: z.number().int(),
    memory: z.number().int(),
    logs: z.number().int(),
    concurrency: z.number().int(),
    instances: z.number().int().positive(),
  })
  .partial();
export type ActionLimitsInput = z.infer<typeof actionLimitsInputSchema>;

export interface ActionLimits {
  timeout: number;
  memory: number;
  logs: number;
  concurrency: number;
  instances?: number;
}

export function defaultActionLimits(system: ActionLimitsConfig): ActionLimits {
  return { timeout: system.stdTimeoutMs, memory: system.stdMemoryMb, logs: system.stdLogsMb, concurrency: 1 };
}

function inRange(what: string, value: number, unit: string, min: number, max: number): void {
  if (value > max)
    throw new HttpError(400, messages.malformed(messages.exceedsThreshold(what, value, unit, max)));
  if (value < min)
    throw new HttpError(400, messages.malformed(messages.belowThreshold(what, value, unit, min)));
}

/** Merges `input` over `base` (defaults on create, the stored limits on update) and range-checks it. */
export function resolveActionLimits(
  input: ActionLimitsInput | undefined,
  base: ActionLimits,
  system: ActionLimitsConfig,
): ActionLimits {
  const limits: ActionLimits = { ...base };
  for (const [field, value] of Object.entries(input ?? {})) {
    if (value !== undefined) limits[field as keyof ActionLimits] = value;
  }
  inRange('timeout', limits.timeout, 'milliseconds', system.minTimeoutMs, system.maxTimeoutMs);
  inRange('memory', limits.memory, 'MB', system.minMemoryMb, system.maxMemoryMb);
  inRange('logs', limits.logs, 'MB', system.minLogsMb, system.maxLogsMb);
  if (limits.concurrency > system.maxConcurrency || limits.concurrency < 1) {
    throw new HttpError(
      400,
      messages.malformed(messages.concurrencyThreshold(limits.concurrency, system.maxConcurrency)),
    );
  }
  return limits;
}
