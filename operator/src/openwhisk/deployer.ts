// Deploys and removes actions on a host's OpenWhisk through the `openwhisk` npm client — the same
// code path against whisk-sim and a real OpenWhisk. Every operation is idempotent.
import openwhisk from 'openwhisk';
import { BINDING_ANNOTATION, type DesiredAction, DIGEST_ANNOTATION, MANAGED_ANNOTATION } from './action.ts';

export interface WhiskEndpoint {
  apiHost: string;
  namespace: string;
  /** UUID:KEY */
  auth: string;
  insecure: boolean;
  /** The host SAE's ID (MecHost spec.kme.saeId), for what a HostBinder adds per host. */
  hostSaeId?: string;
}

export type Whisk = ReturnType<typeof openwhisk>;

export class DeployError extends Error {
  constructor(
    message: string,
    readonly statusCode: number | undefined,
  ) {
    super(message);
  }
}

export function whiskClient(ep: WhiskEndpoint): Whisk {
  return openwhisk({
    apihost: ep.apiHost,
    api_key: ep.auth,
    namespace: ep.namespace,
    ignore_certs: ep.insecure,
  });
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

function annotation(action: { annotations?: { key: string; value: unknown }[] }, key: string): unknown {
  return action.annotations?.find((a) => a.key === key)?.value;
}

/**
 * Makes sure `action` exists on the host. Creates it without overwrite; a 409 means another
 * writer got there first, which is fine when the existing action has our digest. Returns true when
 * this call created it.
 */
export async function ensureAction(ow: Whisk, action: DesiredAction): Promise<boolean> {
  try {
    await ow.actions.create({
      name: action.name,
      action: action.body as unknown as openwhisk.Action,
      overwrite: false,
    });
    return true;
  } catch (err) {
    if (statusOf(err) !== 409) {
      throw new DeployError(`deploying action ${action.name}: ${(err as Error).message}`, statusOf(err));
    }
  }
  const existing = await ow.actions.get({ name: action.name });
  if (
    annotation(existing, DIGEST_ANNOTATION) !== action.digest ||
    annotation(existing, BINDING_ANNOTATION) !== annotation(action.body, BINDING_ANNOTATION)
  ) {
    // Same name, other content: a hand-made action, or one bound to what the host was before
    await ow.actions.update({ name: action.name, action: action.body as unknown as openwhisk.Action });
    return true;
  }
  return false;
}

/** Removes the action; an action that is already gone counts as removed. Returns true when this call removed it. */
export async function removeAction(ow: Whisk, name: string): Promise<boolean> {
  try {
    await ow.actions.delete({ name });
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw new DeployError(`removing action ${name}: ${(err as Error).message}`, statusOf(err));
  }
}

/** The actions mecqkd deployed on the host (annotation mecqkd.io/managed), with their host binding. */
export async function listManaged(ow: Whisk): Promise<Map<string, unknown>> {
  const managed = new Map<string, unknown>();
  const page = 200;
  for (let skip = 0; ; skip += page) {
    const batch = await ow.actions.list({ limit: page, skip });
    for (const a of batch)
      if (annotation(a, MANAGED_ANNOTATION) === true)
        managed.set(a.name as string, annotation(a, BINDING_ANNOTATION));
    if (batch.length < page) return managed;
  }
}

/** Names of the actions mecqkd deployed on the host. */
export const managedActions = async (ow: Whisk): Promise<string[]> => [...(await listManaged(ow)).keys()];
