// What the reconcilers need to record a Kubernetes Event; the runtime's recorder implements it.
import type { KubeObject } from '../runtime/types.ts';

export interface EventSink {
  emit(regarding: KubeObject, type: 'Normal' | 'Warning', reason: string, note: string, action: string): void;
}
