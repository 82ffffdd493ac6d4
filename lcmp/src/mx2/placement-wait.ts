// A create answers once the operator has decided: waits on the AppContext informer (no polling) for
// the context to be Placed or Rejected, up to a deadline.
import type { AppContext } from '@mecqkd/crds';
import type { Informer } from '@mecqkd/kube/informer';
import { objectKey } from '@mecqkd/kube/kube-paths';

export type Outcome =
  | { kind: 'placed' | 'rejected'; ctx: AppContext }
  | { kind: 'timeout'; ctx?: AppContext };

function settled(ctx: AppContext | undefined): Outcome | undefined {
  const phase = ctx?.status?.phase;
  if (!ctx || ctx.metadata.deletionTimestamp) return undefined;
  // a Placed status of an older generation does not count; status.referenceURI says where
  if (phase === 'Placed' && ctx.status?.referenceURI) return { kind: 'placed', ctx };
  if (phase === 'Rejected') return { kind: 'rejected', ctx };
  return undefined;
}

export class PlacementWaiter {
  private readonly waiting = new Map<string, (o: Outcome) => void>();

  constructor(private readonly contexts: Informer<AppContext>) {
    const wake = (ctx: AppContext) => {
      const key = objectKey(ctx);
      const resolve = this.waiting.get(key);
      const outcome = resolve && settled(ctx);
      if (outcome) resolve(outcome);
    };
    contexts.on('add', wake).on('update', (_, c) => wake(c));
  }

  wait(key: string, timeoutMs: number): Promise<Outcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish({ kind: 'timeout', ctx: this.contexts.get(key) }), timeoutMs);
      const finish = (o: Outcome) => {
        clearTimeout(timer);
        this.waiting.delete(key);
        resolve(o);
      };
      this.waiting.set(key, finish);
      const now = settled(this.contexts.get(key));
      if (now) finish(now);
    });
  }
}
