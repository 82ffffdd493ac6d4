// metav1.Condition helpers with apimachinery's SetStatusCondition semantics: lastTransitionTime moves
// only when status flips; reason, message and observedGeneration update in place. Pure.
import type { Condition } from '@mecqkd/crds';

export type { Condition };
export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/**
 * Returns the conditions with `next` set. When nothing changed, the very same array comes back, so
 * `setCondition(a, …) !== a` tells whether a status write is needed.
 */
export function setCondition(
  conditions: readonly Condition[],
  next: ConditionInput,
  now = new Date(),
): Condition[] {
  const i = conditions.findIndex((c) => c.type === next.type);
  const old = i < 0 ? undefined : conditions[i];
  const lastTransitionTime =
    old && old.status === next.status ? old.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z');
  const merged: Condition = { ...next, lastTransitionTime };
  if (old && sameCondition(old, merged)) return conditions as Condition[];
  const out = [...conditions];
  if (i < 0) out.push(merged);
  else out[i] = merged;
  return out;
}

export function getCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

/** Removes the condition of `type`; the same array when there was none. */
export function removeCondition(conditions: readonly Condition[], type: string): Condition[] {
  return conditions.some((c) => c.type === type)
    ? conditions.filter((c) => c.type !== type)
    : (conditions as Condition[]);
}

function sameCondition(a: Condition, b: Condition): boolean {
  return (
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.observedGeneration === b.observedGeneration &&
    a.lastTransitionTime === b.lastTransitionTime
  );
}
