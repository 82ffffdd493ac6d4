// Per-key shared/exclusive lock. Placements onto an action share it (many contexts may record that
// they use the action at once); removing the action takes it exclusively, so no placement can slip
// between "nobody uses it" and the delete.
interface Entry {
  shared: number;
  exclusive: boolean;
  waiting: { exclusive: boolean; wake: () => void }[];
}

export class KeyedLock {
  private readonly entries = new Map<string, Entry>();

  shared<T>(key: string, section: () => Promise<T>): Promise<T> {
    return this.run(key, false, section);
  }

  exclusive<T>(key: string, section: () => Promise<T>): Promise<T> {
    return this.run(key, true, section);
  }

  private async run<T>(key: string, exclusive: boolean, section: () => Promise<T>): Promise<T> {
    let e = this.entries.get(key);
    if (!e) {
      e = { shared: 0, exclusive: false, waiting: [] };
      this.entries.set(key, e);
    }
    const entry = e;
    // FIFO once anyone waits, so a stream of placements cannot starve a removal
    if (entry.exclusive || (exclusive && entry.shared > 0) || entry.waiting.length > 0) {
      await new Promise<void>((wake) => entry.waiting.push({ exclusive, wake }));
    } else if (exclusive) {
      entry.exclusive = true;
    } else {
      entry.shared++;
    }
    try {
      return await section();
    } finally {
      if (exclusive) entry.exclusive = false;
      else entry.shared--;
      this.admit(key, entry);
    }
  }

  private admit(key: string, entry: Entry): void {
    while (entry.waiting.length > 0 && !entry.exclusive) {
      const next = entry.waiting[0]!;
      if (next.exclusive) {
        if (entry.shared > 0) return;
        entry.waiting.shift();
        entry.exclusive = true;
        next.wake();
        return;
      }
      entry.waiting.shift();
      entry.shared++;
      next.wake();
    }
    if (!entry.exclusive && entry.shared === 0 && entry.waiting.length === 0) this.entries.delete(key);
  }
}
