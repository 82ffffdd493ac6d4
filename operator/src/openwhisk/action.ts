// The OpenWhisk action that serves a MecApp, produced by one function so that the host-side QKD
// envelope wrapper (decrypt arguments, encrypt results) can be slotted in without touching the
// reconcilers. The action's name carries a digest of everything deployed, so an update of the
// code or settings yields a new name: deployed exactly once, and the old one is removed when unused.
import { createHash } from 'node:crypto';
import { canonicalJson } from '@mecqkd/common/canonical-json';
import type { MecApp } from '@mecqkd/crds';

export const MANAGED_ANNOTATION = 'mecqkd.io/managed';
export const APP_ANNOTATION = 'mecqkd.io/app';
export const DIGEST_ANNOTATION = 'mecqkd.io/digest';
/** Digest of what a host's copy of an action got of its own (HostBinder): a change redeploys it there. */
export const BINDING_ANNOTATION = 'mecqkd.io/host-binding';

export interface ActionBody {
  exec: { kind: string; code: string; main: string };
  limits: { timeout: number; memory: number; concurrency: number };
  parameters: { key: string; value: unknown }[];
  annotations: { key: string; value: unknown }[];
}

export interface DesiredAction {
  /** OpenWhisk action name: mecqkd-<app>-<digest prefix>. */
  name: string;
  digest: string;
  body: ActionBody;
}

/** Rewrites the action before deployment (the QKD envelope wrapper plugs in here). */
export type ActionWrapper = (body: ActionBody, app: MecApp) => ActionBody;

const identity: ActionWrapper = (body) => body;

/** Which host an action is deployed to, for what differs per host (its wrapper secret). */
export interface HostScope {
  /** Kubernetes namespace of the MecHost. */
  namespace: string;
  /** The host SAE's ID (spec.kme.saeId). */
  saeId: string;
}

/**
 * Completes an action for one host at deploy time. The desired action (name, digest) stays the
 * same on every host; what this adds must be determined by the host and by what the digest covers.
 */
export type HostBinder = (body: ActionBody, host: HostScope) => ActionBody;

/** The action for `app`, whose resolved source is `code` (inline, or read from its ConfigMap). */
export function desiredAction(app: MecApp, code: string, wrap: ActionWrapper = identity): DesiredAction {
  const { action } = app.spec;
  const base: ActionBody = {
    exec: { kind: action.kind, code, main: action.main },
    limits: {
      timeout: action.limits.timeoutMs,
      memory: action.limits.memoryMb,
      concurrency: action.limits.concurrency,
    },
    parameters: Object.entries(action.parameters ?? {})
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, value]) => ({ key, value })),
    annotations: [],
  };
  const body = wrap(base, app);
  const digest = createHash('sha256').update(canonicalJson(body)).digest('hex');
  const name = `mecqkd-${app.metadata.name}-${digest.slice(0, 12)}`;
  body.annotations = [
    ...body.annotations,
    { key: MANAGED_ANNOTATION, value: true },
    { key: APP_ANNOTATION, value: app.metadata.name },
    { key: DIGEST_ANNOTATION, value: digest },
  ];
  return { name, digest, body };
}

/**
 * MEC 016 referenceURI of an action: its OpenWhisk web action URL, where a client POSTs envelopes.
 * OpenWhisk serves it without the namespace key (the envelope authenticates a call); `namespace`
 * must be the real one, since web URLs know no `_` alias.
 */
export function invocationUrl(apiHost: string, namespace: string, action: string): string {
  const base = apiHost.replace(/\/+$/, '');
  return `${base}/api/v1/web/${encodeURIComponent(namespace)}/default/${encodeURIComponent(action)}.json`;
}
