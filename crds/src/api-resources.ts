// Where the kinds live in the API, and the finalizers their controllers hold: shared by the operator
// and the LCMP, which both read and write these objects.
import { GROUP, VERSION } from './common.ts';

/** Group, version and plural of a resource (the shape @mecqkd/kube's paths take). */
export interface ApiResource {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
}

const mecqkd = (plural: string): ApiResource => ({ group: GROUP, version: VERSION, plural });

export const MEC_HOSTS = mecqkd('mechosts');
export const MEC_APPS = mecqkd('mecapps');
export const APP_CONTEXTS = mecqkd('appcontexts');
export const QKD_LINKS = mecqkd('qkdlinks');
export const SECRETS: ApiResource = { group: '', version: 'v1', plural: 'secrets' };
export const CONFIG_MAPS: ApiResource = { group: '', version: 'v1', plural: 'configmaps' };

/** Held by every AppContext until its action is removed from the host (when it was the last user). */
export const APP_CONTEXT_FINALIZER = 'mecqkd.io/action-cleanup';
/** Held by every MecHost until its contexts have moved and its actions are removed. */
export const MEC_HOST_FINALIZER = 'mecqkd.io/host-cleanup';
