// schemathesis, as the fuzz tests of every interface run it: where `make fuzz-deps` installs it (a
// virtualenv under the cache) and what its JUnit report counts.
import { homedir } from 'node:os';
import { join } from 'node:path';

const CACHE =
  process.env.MECQKD_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'mecqkd');
export const SCHEMATHESIS = join(CACHE, 'schemathesis-venv', 'bin', 'st');

export interface JunitCounts {
  cases: number;
  failures: { test: string; message: string }[];
}

/** Test cases and failures of a schemathesis JUnit report. */
export function junitCounts(xml: string): JunitCounts {
  const cases = [...xml.matchAll(/<testcase\b[^>]*name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)];
  const failures = cases.flatMap((m) =>
    [...(m[3] ?? '').matchAll(/<failure[^>]*message="([^"]*)"/g)].map((f) => ({
      test: m[1]!,
      message: f[1]!,
    })),
  );
  return { cases: cases.length, failures };
}
