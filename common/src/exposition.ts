// A parser for the Prometheus text exposition format (version 0.0.4): what the direct-scrape fallback
// reads from whisk-sim, OpenWhisk and KME /metrics. Comments and TYPE/HELP lines are skipped; histogram
// and summary series come out as their _bucket/_sum/_count samples.

export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Epoch ms when the exposition gives one. */
  timestamp?: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Special values as Prometheus reads them (Go's ParseFloat: any case), e.g. prom-client's "Nan". */
const SPECIAL = new Map<string, number>([
  ['nan', Number.NaN],
  ['inf', Number.POSITIVE_INFINITY],
  ['+inf', Number.POSITIVE_INFINITY],
  ['-inf', Number.NEGATIVE_INFINITY],
  ['infinity', Number.POSITIVE_INFINITY],
  ['+infinity', Number.POSITIVE_INFINITY],
  ['-infinity', Number.NEGATIVE_INFINITY],
]);

function parseValue(text: string, line: number): number {
  const special = SPECIAL.get(text.toLowerCase());
  if (special !== undefined) return special;
  const v = Number(text);
  if (text === '' || Number.isNaN(v))
    throw new Error(`line ${line}: bad sample value ${JSON.stringify(text)}`);
  return v;
}

/** Parses `{a="x",b="y\"z"}` starting at `rest[0] === '{'`; returns the labels and what follows. */
function parseLabels(rest: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  const fail = (why: string) => {
    throw new Error(`line ${line}: ${why} at column ${i + 1} of the label set`);
  };
  for (;;) {
    while (rest[i] === ' ' || rest[i] === ',') i++;
    if (rest[i] === '}') return { labels, rest: rest.slice(i + 1) };
    const name = LABEL.exec(rest.slice(i))?.[0];
    if (!name) fail('expected a label name');
    i += (name as string).length;
    while (rest[i] === ' ') i++;
    if (rest[i] !== '=') fail('expected =');
    i++;
    while (rest[i] === ' ') i++;
    if (rest[i] !== '"') fail('expected "');
    i++;
    let value = '';
    for (;;) {
      const c = rest[i];
      if (c === undefined) fail('unterminated label value');
      if (c === '"') break;
      if (c === '\\') {
        const e = rest[i + 1];
        value += e === 'n' ? '\n' : e === '\\' ? '\\' : e === '"' ? '"' : `\\${e ?? ''}`;
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++;
    labels[name as string] = value;
  }
}

export function parseExposition(text: string): Series[] {
  const out: Series[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    const name = NAME.exec(line)?.[0];
    if (!name)
      throw new Error(`line ${n + 1}: expected a metric name in ${JSON.stringify(line.slice(0, 80))}`);
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, n + 1));
    const [value, timestamp, extra] = rest.trim().split(/\s+/);
    if (extra !== undefined) throw new Error(`line ${n + 1}: unexpected ${JSON.stringify(extra)}`);
    const series: Series = { name, labels, value: parseValue(value ?? '', n + 1) };
    if (timestamp !== undefined) series.timestamp = parseValue(timestamp, n + 1);
    out.push(series);
  }
  return out;
}
