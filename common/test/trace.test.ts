import { expect } from 'chai';
import { childTraceparent, parseTraceparent, TRACEPARENT_ANNOTATION, traceIdOf } from '../src/trace.ts';

describe('W3C traceparent', () => {
  const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

  it('reads the spec example', () => {
    expect(parseTraceparent(`00-${TRACE}-00f067aa0ba902b7-01`)).to.deep.equal({
      traceId: TRACE,
      spanId: '00f067aa0ba902b7',
      flags: '01',
    });
  });

  it('ignores what the spec calls invalid', () => {
    for (const bad of [
      undefined,
      ['a', 'b'],
      '',
      `00-${TRACE}-00f067aa0ba902b7`,
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `ff-${TRACE}-00f067aa0ba902b7-01`,
      `00-${TRACE}-00f067aa0ba902b7-01-extra`,
      `00-${TRACE.toUpperCase()}-00f067aa0ba902b7-01`,
    ])
      expect(parseTraceparent(bad as string), String(bad)).to.equal(undefined);
    // a later version may append fields
    expect(parseTraceparent(`01-${TRACE}-00f067aa0ba902b7-01-more`)?.traceId).to.equal(TRACE);
  });

  it('makes child spans of a trace and new traces', () => {
    const child = parseTraceparent(childTraceparent(TRACE));
    expect(child?.traceId).to.equal(TRACE);
    expect(child?.flags).to.equal('01');
    expect(parseTraceparent(childTraceparent())?.traceId).to.not.equal(TRACE);
  });

  it('reads the trace ID from an object annotation', () => {
    const meta = (v?: string) => ({
      metadata: { annotations: (v ? { [TRACEPARENT_ANNOTATION]: v } : {}) as Record<string, string> },
    });
    expect(traceIdOf(meta(childTraceparent(TRACE)))).to.equal(TRACE);
    expect(traceIdOf(meta('garbage'))).to.equal(undefined);
    expect(traceIdOf(meta())).to.equal(undefined);
  });
});
