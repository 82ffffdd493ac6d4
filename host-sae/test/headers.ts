// A request envelope header for the key-window tests: one key, one context, the given sequence.
import type { EnvelopeHeader } from '@mecqkd/sdk/envelope';

export const header = (seq: number, over: Partial<EnvelopeHeader> = {}): EnvelopeHeader => ({
  v: 1,
  keyId: 'bc490419-7d60-487f-adc1-4ddcc177c139',
  seq,
  contextId: '0123456789abcdef0123456789abcdef',
  action: 'mecqkd-cardio-0123456789ab',
  clientSaeId: 'SAE_CLIENT',
  direction: 'request',
  ...over,
});
