// Resource types and finalizer names of the objects the operator reconciles (defined with the kinds,
// since the LCMP writes them too), and the operator's field manager.
export {
  APP_CONTEXT_FINALIZER,
  APP_CONTEXTS,
  CONFIG_MAPS,
  MEC_APPS,
  MEC_HOST_FINALIZER,
  MEC_HOSTS,
  QKD_LINKS,
  SECRETS,
} from '@mecqkd/crds/api-resources';

export const FIELD_MANAGER = 'mecqkd-operator';
