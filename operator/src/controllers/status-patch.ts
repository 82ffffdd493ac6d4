// The body of a merge patch that makes a status exactly `after`: a merge patch deletes a field only
// when it is sent as null, so what `after` drops of `before` is nulled.
export function statusPatch<S extends object>(before: S | undefined, after: S): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(before ?? {})) if (!(k in after)) out[k] = null;
  return { ...out, ...after };
}
