// What commands print: a table for people (default) or JSON for scripts (--output json). Results go
// to stdout, diagnostics to stderr; a streaming command prints one JSON object per line.
import type { Writable } from 'node:stream';

export type Format = 'table' | 'json';

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

export interface Output {
  format: Format;
  /** A list: the rows as a table, or `data` (default: the rows) as JSON. */
  table<T>(rows: T[], columns: Column<T>[], data?: unknown): void;
  /** One result: `text` for people, `data` as JSON. */
  result(data: unknown, text: string): void;
  /** One event of a stream: a table line for people, one JSON line for scripts. */
  event(data: unknown, text: string): void;
  /** Progress and notes for people (stderr; silent in JSON mode). */
  note(text: string): void;
}

const cell = (v: unknown) =>
  v === undefined || v === null ? '-' : typeof v === 'string' ? v : JSON.stringify(v);

export function renderTable<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n');
}

export function createOutput(format: Format, stdout: Writable, stderr: Writable): Output {
  const json = (v: unknown, indent?: number) => stdout.write(`${JSON.stringify(v, null, indent)}\n`);
  return {
    format,
    table(rows, columns, data) {
      if (format === 'json') json(data ?? rows, 2);
      else stdout.write(`${rows.length ? renderTable(rows, columns) : '(none)'}\n`);
    },
    result(data, text) {
      if (format === 'json') json(data, 2);
      else stdout.write(`${text}\n`);
    },
    event(data, text) {
      if (format === 'json') json(data);
      else stdout.write(`${text}\n`);
    },
    note(text) {
      if (format !== 'json') stderr.write(`${text}\n`);
    },
  };
}
