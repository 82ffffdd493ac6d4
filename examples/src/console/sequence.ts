// The numbered steps of docs/architecture.md (flows 1–3) for one invocation, with what was measured
// for each: steps 1–4 happened once, when the context was created; 5–12 belong to this invocation.
// A step nobody measured says so (ms null) instead of showing a made-up number.

export interface ContextTimings {
  /** When the context was created (ISO time). */
  at: string;
  listAppsMs: number;
  createContextMs: number;
  /** The operator's placement and deployment, when the device app learns them (else inside step 2). */
  placementMs?: number;
  deployMs?: number;
}

export interface InvocationTimings {
  /** Waiting for a key of the client KME; 0 when a prefetched one was ready. */
  clientKeyMs: number;
  /** The call waited for the KME (else a key fetched ahead of time, or the current one, served it). */
  keyFetched: boolean;
  encryptMs: number;
  invokeMs: number;
  decryptMs: number;
  /** As reported by the host side, when it reports them. */
  host?: { keyMs?: number; decryptMs?: number; runMs?: number; encryptMs?: number };
}

export interface Step {
  n: number;
  name: string;
  where: string;
  ms: number | null;
  note?: string;
  /** The step ran when the context was created, not for this invocation. */
  earlier?: boolean;
}

const round = (ms: number | undefined) => (ms === undefined ? null : Math.round(ms * 100) / 100);

export function sequenceSteps(ctx: ContextTimings, inv: InvocationTimings, host: string): Step[] {
  const when = 'once, when the context was created';
  const inside2 = 'inside step 2: the LCMP answers once the context is placed';
  const hostSide = (ms: number | undefined) =>
    ms === undefined ? { ms: null, note: 'not reported by the host; inside step 7' } : { ms: round(ms) };
  return [
    { n: 1, name: 'List apps', where: 'device app → LCMP (Mx2 GET /app_list)', ms: round(ctx.listAppsMs) },
    {
      n: 2,
      name: 'Create context',
      where: 'device app → LCMP (Mx2 POST /app_contexts) → AppContext',
      ms: round(ctx.createContextMs),
    },
    {
      n: 3,
      name: 'Placement',
      where: `operator: telemetry → ${host}`,
      ...(ctx.placementMs === undefined ? { ms: null, note: inside2 } : { ms: round(ctx.placementMs) }),
    },
    {
      n: 4,
      name: 'Deploy',
      where: `operator → OpenWhisk on ${host}`,
      ...(ctx.deployMs === undefined ? { ms: null, note: inside2 } : { ms: round(ctx.deployMs) }),
    },
    {
      n: 5,
      name: 'Key from client KME',
      where: 'client SAE → client KME (QKD 014 enc_keys)',
      ms: round(inv.clientKeyMs),
      ...(inv.keyFetched ? {} : { note: 'no wait: a key fetched ahead of time, or the current one' }),
    },
    {
      n: 6,
      name: 'Encrypt',
      where: 'client: AES-256-GCM, key derived per invocation',
      ms: round(inv.encryptMs),
    },
    { n: 7, name: 'Invoke', where: `client → web action on ${host} (round trip)`, ms: round(inv.invokeMs) },
    {
      n: 8,
      name: 'Key from host KME',
      where: `host SAE → host KME (QKD 014 dec_keys)`,
      ...hostSide(inv.host?.keyMs),
    },
    { n: 9, name: 'Decrypt', where: 'action wrapper on the host', ...hostSide(inv.host?.decryptMs) },
    { n: 10, name: 'Run', where: "the model's main()", ...hostSide(inv.host?.runMs) },
    { n: 11, name: 'Encrypt', where: 'action wrapper: the result sealed', ...hostSide(inv.host?.encryptMs) },
    { n: 12, name: 'Decrypt', where: 'client: the result opened and checked', ms: round(inv.decryptMs) },
  ].map((s) => (s.n <= 4 ? { ...s, earlier: true, note: s.note ? `${when}; ${s.note}` : when } : s));
}
