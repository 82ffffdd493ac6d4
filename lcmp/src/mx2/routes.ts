// The five Mx2 operations of MEC 016 V2.2.1 (§7.3–7.6), answered from the informer caches and
// carried out as AppContext writes. Handlers validate with zod, decide with the pure modules, act
// on the apiserver and say what happened; every refusal is a ProblemError.
import type { AppContext, MecApp, MecHost } from '@mecqkd/crds';
import { APP_CONTEXTS } from '@mecqkd/crds/api-resources';
import { removeFinalizer } from '@mecqkd/kube/finalizers';
import type { Informer } from '@mecqkd/kube/informer';
import type { KubeClient } from '@mecqkd/kube/kube-client';
import { isNotFound } from '@mecqkd/kube/kube-errors';
import { collectionPath, objectPath } from '@mecqkd/kube/kube-paths';
import type { Cache } from '@mecqkd/kube/types';
import type { z } from 'zod';
import type { ClientRegistration } from '../auth/registry.ts';
import { fail, ProblemError, problem } from '../problem.ts';
import { RefusedTarget, type SsrfPolicy } from '../ssrf.ts';
import { applicationList, availableLocations, findApp, locationAvailability, mayActFor } from './catalog.ts';
import {
  contextResource,
  createdBody,
  decideUpdate,
  KNOWN_LOCATIONS_ANNOTATION,
  knownLocations,
  LCMP_FINALIZER,
  newContextId,
  ownedBy,
} from './contexts.ts';
import type { PlacementWaiter } from './placement-wait.ts';
import { appContext, appListQuery, applicationLocationAvailability } from './schemas.ts';

export interface Mx2Deps {
  kube: KubeClient;
  namespace: string;
  contexts: Informer<AppContext>;
  apps: Cache<MecApp>;
  hosts: Cache<MecHost>;
  waiter: PlacementWaiter;
  ssrf: SsrfPolicy;
  vendorId: string;
  placeTimeoutMs: number;
  retryAfterSeconds: number;
}

export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** zod issues as a 400 naming each field. */
export function invalid(err: z.ZodError, prefix = ''): ProblemError {
  const fields = err.issues.map((i) => prefix + (i.path.length ? i.path.join('.') : '(body)'));
  const detail = err.issues.map((i, n) => `${fields[n]}: ${i.message}`).join('; ');
  return new ProblemError(problem(400, detail, { fields }));
}

function parse<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw invalid(r.error, prefix);
  return r.data;
}

async function guardCallback(d: Mx2Deps, url: string | undefined): Promise<void> {
  if (url === undefined) return;
  try {
    await d.ssrf.check(url);
  } catch (err) {
    if (!(err instanceof RefusedTarget)) throw err;
    throw new ProblemError(
      problem(400, `callbackReference ${err.message}: the LCMP does not send notifications there`, {
        fields: ['callbackReference'],
      }),
    );
  }
}

const contextPath = (d: Mx2Deps, id: string) => objectPath(APP_CONTEXTS, d.namespace, id);

/**
 * Deletes a context on the client's behalf: the LCMP's finalizer goes first (a context the client
 * ends is not announced to it), then the CR; the operator's finalizer cleans up on the host.
 */
export async function clientDelete(d: Pick<Mx2Deps, 'kube' | 'namespace'>, id: string): Promise<boolean> {
  const path = objectPath(APP_CONTEXTS, d.namespace, id);
  for (let attempt = 0; ; attempt++) {
    const ctx = await d.kube.get<AppContext>(path);
    // read fresh: a deletion already under way (the operator's finalizer still cleaning up) may not
    // have reached the informer cache the caller checked, and is the client's 404 all the same
    if (!ctx || ctx.metadata.deletionTimestamp) return false;
    try {
      await removeFinalizer(d.kube, path, ctx, LCMP_FINALIZER);
      await d.kube.delete(path, { preconditions: { uid: ctx.metadata.uid } });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      if (attempt >= 4) throw err;
    }
  }
}

export function listApps(d: Mx2Deps, client: ClientRegistration, query: unknown): Answer {
  const q = parse(appListQuery, query);
  return { status: 200, body: applicationList(d.apps.list(d.namespace), client, q, d.vendorId) };
}

function ownContext(d: Mx2Deps, client: ClientRegistration, id: string): AppContext {
  const ctx = d.contexts.get(`${d.namespace}/${id}`);
  // another client's context is as unknown as a missing one: ids cannot be probed
  if (!ctx || !ownedBy(ctx, client)) throw fail(404, `no application context ${id}`);
  return ctx;
}

export async function createContext(
  d: Mx2Deps,
  client: ClientRegistration,
  raw: unknown,
  apiRoot: string,
  traceparent?: string,
): Promise<Answer> {
  const req = parse(appContext, raw);
  if (req.contextId !== undefined)
    throw new ProblemError(
      problem(400, 'contextId is assigned by the MEC system', { fields: ['contextId'] }),
    );
  const instances = req.appInfo.userAppInstanceInfo;
  if (instances.length !== 1)
    throw new ProblemError(
      problem(400, 'a context has exactly one instance: send one userAppInstanceInfo item', {
        fields: ['appInfo.userAppInstanceInfo'],
      }),
    );
  for (const k of ['appInstanceId', 'referenceURI'] as const) {
    if (instances[0]![k] !== undefined)
      throw new ProblemError(
        problem(400, `appInfo.userAppInstanceInfo[0].${k} is assigned by the MEC system`, {
          fields: [`appInfo.userAppInstanceInfo.0.${k}`],
        }),
      );
  }
  if (!mayActFor(client, req.associateDevAppId))
    throw fail(403, `this client may not act for device application ${req.associateDevAppId}`);
  await guardCallback(d, req.callbackReference);
  const app = findApp(d.apps.values(d.namespace), client, req.appInfo);
  if (!app) {
    throw fail(
      403,
      req.appInfo.appPackageSource
        ? 'on-boarding via appPackageSource is not permitted: choose an application from app_list'
        : `application ${req.appInfo.appName} (${req.appInfo.appProvider}, ${req.appInfo.appDVersion}) is not in the application list of this client`,
    );
  }
  const id = newContextId();
  const pending = d.waiter.wait(`${d.namespace}/${id}`, d.placeTimeoutMs);
  await d.kube.create(
    collectionPath(APP_CONTEXTS, d.namespace),
    contextResource(
      req,
      app,
      client,
      id,
      d.namespace,
      (where) => availableLocations(app, d.hosts.values(d.namespace), where),
      traceparent,
    ),
  );
  const outcome = await pending;
  if (outcome.kind === 'placed') {
    return {
      status: 201,
      headers: { location: `${apiRoot}/dev_app/v1/app_contexts/${id}` },
      body: createdBody(req, outcome.ctx, app, d.vendorId),
    };
  }
  // no context is left behind for a create that failed
  await clientDelete(d, id);
  const ready = outcome.ctx?.status?.conditions?.find((c) => c.type === 'Ready');
  if (outcome.kind === 'rejected')
    throw fail(403, `the MEC system cannot run this application: ${ready?.reason}: ${ready?.message}`);
  throw fail(
    503,
    `no MEC host took the context within ${d.placeTimeoutMs / 1000} s${ready ? ` (${ready.reason}: ${ready.message})` : ''}; try again later`,
    { 'retry-after': String(d.retryAfterSeconds) },
  );
}

export async function updateContext(
  d: Mx2Deps,
  client: ClientRegistration,
  id: string,
  raw: unknown,
): Promise<Answer> {
  const ctx = ownContext(d, client, id);
  const body = parse(appContext, raw);
  const decision = decideUpdate(body, ctx);
  if (!decision.ok) throw new ProblemError(problem(400, decision.detail, { fields: [decision.field] }));
  await guardCallback(d, body.callbackReference);
  const { callbackReference, appLocation } = decision.spec;
  const changed =
    (callbackReference ?? undefined) !== ctx.spec.callbackReference ||
    JSON.stringify(appLocation ?? undefined) !== JSON.stringify(ctx.spec.appLocation);
  if (changed) {
    // a new requested location: what is available there now is known at this request (6.4.5)
    const app = d.apps.get(`${d.namespace}/${ctx.spec.appName}`);
    const known =
      ctx.spec.appLocationUpdates && app
        ? knownLocations(availableLocations(app, d.hosts.values(d.namespace), appLocation ?? undefined))
        : undefined;
    const patched = await d.kube
      .patch<AppContext>(contextPath(d, id), 'merge', {
        ...(known !== undefined
          ? { metadata: { annotations: { [KNOWN_LOCATIONS_ANNOTATION]: known } } }
          : {}),
        spec: decision.spec,
      })
      .catch((err: unknown) => {
        throw isNotFound(err) ? fail(404, `no application context ${id}`) : err;
      });
    // a deletion the cache had not seen yet: the change went to a context that is already ending
    if (patched.metadata.deletionTimestamp) throw fail(404, `no application context ${id}`);
  }
  return { status: 204 };
}

export async function deleteContext(d: Mx2Deps, client: ClientRegistration, id: string): Promise<Answer> {
  ownContext(d, client, id);
  if (!(await clientDelete(d, id))) throw fail(404, `no application context ${id}`);
  return { status: 204 };
}

export function obtainLocations(d: Mx2Deps, client: ClientRegistration, raw: unknown): Answer {
  const req = parse(applicationLocationAvailability, raw);
  if (!mayActFor(client, req.associateDevAppId))
    throw fail(403, `this client may not act for device application ${req.associateDevAppId}`);
  const app = findApp(d.apps.values(d.namespace), client, req.appInfo);
  return { status: 200, body: locationAvailability(req, app, d.hosts.values(d.namespace)) };
}
