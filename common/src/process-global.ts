// One value per process, whatever module copy asks: mocha require()s its fixture (tsx compiles a
// CommonJS copy of each module it reaches) while tests import() the ES modules, so module-scope
// state would exist twice and teardown would see an empty copy.
export function processGlobal<T>(name: string, init: () => T): T {
  const slots = globalThis as Record<symbol, unknown>;
  const key = Symbol.for(`mecqkd:${name}`);
  if (!(key in slots)) slots[key] = init();
  return slots[key] as T;
}
