// What the reconcilers need to record a Kubernetes Event: the runtime's EventRecorder provides it.
import type { EventRecorder } from '@mecqkd/kube/events';

export type EventSink = Pick<EventRecorder, 'record'>;
