// A binary min-heap of timed events; ties keep insertion order, so a run is a function of its seed.
export interface Timed {
  time: number;
  seq: number;
}

/** An event before the queue numbers it (distributes over unions of event kinds). */
export type Unsequenced<T> = T extends unknown ? Omit<T, 'seq'> : never;

export class EventQueue<T extends Timed> {
  private items: T[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.items.length;
  }

  push(event: Unsequenced<T>): void {
    const e = { ...event, seq: this.nextSeq++ } as T;
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i] as T, a[p] as T)) break;
      [a[i], a[p]] = [a[p] as T, a[i] as T];
      i = p;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l] as T, a[m] as T)) m = l;
        if (r < a.length && before(a[r] as T, a[m] as T)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as T, a[i] as T];
        i = m;
      }
    }
    return top;
  }
}

const before = (a: Timed, b: Timed) => a.time < b.time || (a.time === b.time && a.seq < b.seq);
