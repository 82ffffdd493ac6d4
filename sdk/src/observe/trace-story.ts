// One context's story from the logs a run collected: every component writes winston JSON lines (the
// action wrapper's land in activation records, exported as "<time> stdout: {json}" lines); the lines
// about a context are those naming it (contextId, or a controller key ending in it) and those of
// the traces they carry (traceId), so the Mx2 request, the operator's decisions, each invocation at
// the host SAE and in the wrapper read as one timeline.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface LogLine {
  time: number;
  component: string;
  message: string;
  fields: Record<string, unknown>;
  /** The file it came from, relative to the run directory. */
  file: string;
}

const ACTIVATION_LINE = /^\S+\s+(?:stdout|stderr): (\{.*\})$/;
const OWN = new Set(['timestamp', 'level', 'component', 'message']);

export function parseLogLine(raw: string, file: string): LogLine | undefined {
  const text = raw.trim();
  const json = text.startsWith('{') ? text : ACTIVATION_LINE.exec(text)?.[1];
  if (!json) return undefined;
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const time = Date.parse(String(v.timestamp));
  if (Number.isNaN(time) || typeof v.message !== 'string') return undefined;
  const fields = Object.fromEntries(Object.entries(v).filter(([k]) => !OWN.has(k)));
  return { time, component: String(v.component ?? '?'), message: v.message, fields, file };
}

function logFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return [];
    if (st.isDirectory()) return logFiles(path);
    return name.endsWith('.log') ? [path] : [];
  });
}

/** Every structured line of every `*.log` under the run directory. */
export function readRunLogs(runDir: string): LogLine[] {
  return logFiles(runDir).flatMap((path) => {
    const file = relative(runDir, path);
    return readFileSync(path, 'utf8')
      .split('\n')
      .flatMap((l) => parseLogLine(l, file) ?? []);
  });
}

const names = (l: LogLine, contextId: string) =>
  l.fields.contextId === contextId ||
  (typeof l.fields.key === 'string' && l.fields.key.endsWith(`/${contextId}`));

export interface Story {
  contextId: string;
  traceIds: string[];
  lines: LogLine[];
}

export function contextStory(lines: LogLine[], contextId: string): Story {
  const traceIds = new Set<string>();
  for (const l of lines)
    if (names(l, contextId) && typeof l.fields.traceId === 'string') traceIds.add(l.fields.traceId);
  const mine = lines
    .filter((l) => names(l, contextId) || traceIds.has(l.fields.traceId as string))
    .sort((a, b) => a.time - b.time);
  return { contextId, traceIds: [...traceIds], lines: mine };
}

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

export function formatStory(story: Story): string {
  if (story.lines.length === 0) return `no log lines about context ${story.contextId}\n`;
  const t0 = story.lines[0]!.time;
  const width = Math.max(...story.lines.map((l) => l.component.length));
  const out = [
    `context ${story.contextId}, trace ${story.traceIds.join(', ') || '(none)'}: ${story.lines.length} log lines`,
  ];
  for (const l of story.lines) {
    const extra = Object.entries(l.fields)
      .filter(([k, v]) => k !== 'traceId' && v !== undefined)
      .map(([k, v]) => `${k}=${show(v)}`)
      .join(' ');
    const at = `+${((l.time - t0) / 1000).toFixed(3)}s`.padStart(9);
    out.push(`${at}  ${l.component.padEnd(width)}  ${l.message}${extra ? `  ${extra}` : ''}`);
  }
  return `${out.join('\n')}\n`;
}
