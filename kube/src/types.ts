// Contracts between the controller runtime and the reconcilers. The runtime is generic over any
// Kubernetes object; reconcilers see only these types.

/** Any Kubernetes object as the apiserver returns it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** "namespace/name", or "name" for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export type ObjectKey = string;

export interface ReconcileResult {
  /** Reconcile again after the per-item backoff (like controller-runtime's Requeue: true). */
  requeue?: boolean;
  /** Reconcile again after this many milliseconds (like RequeueAfter); resets the backoff. */
  requeueAfterMs?: number;
}

/** Level-triggered: given a key, make the world match the object's desired state. A throw = retry with backoff. */
export type Reconciler = (key: ObjectKey) => Promise<ReconcileResult | undefined>;

/** Read-only view of an informer's cache. Returned objects are shared: never mutate them. */
export interface Cache<T extends KubeObject> {
  get(key: ObjectKey): T | undefined;
  list(namespace?: string): T[];
  /** The same objects as list(namespace), not copied: iterate, do not keep. */
  values(namespace?: string): Iterable<T>;
  /** True once the first LIST has been stored. */
  hasSynced(): boolean;
}

export type InformerEvent = 'add' | 'update' | 'delete';
