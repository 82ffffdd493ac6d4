// Resource types and finalizer names of the objects the operator reconciles.
import { GROUP, VERSION } from '@mecqkd/crds';
import type { ResourceType } from '@mecqkd/kube/kube-paths';

const mecqkd = (plural: string): ResourceType => ({ group: GROUP, version: VERSION, plural });

export const MEC_HOSTS = mecqkd('mechosts');
export const MEC_APPS = mecqkd('mecapps');
export const APP_CONTEXTS = mecqkd('appcontexts');
export const QKD_LINKS = mecqkd('qkdlinks');
export const SECRETS: ResourceType = { group: '', version: 'v1', plural: 'secrets' };
export const CONFIG_MAPS: ResourceType = { group: '', version: 'v1', plural: 'configmaps' };

/** Held by every AppContext until its action is removed from the host (when it was the last user). */
export const APP_CONTEXT_FINALIZER = 'mecqkd.io/action-cleanup';
/** Held by every MecHost until its contexts have moved and its actions are removed. */
export const MEC_HOST_FINALIZER = 'mecqkd.io/host-cleanup';
export const FIELD_MANAGER = 'mecqkd-operator';
