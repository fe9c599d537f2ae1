/**
 * A first-in-first-out line with O(1) push and take. A plain array's shift() is O(n),
 * and a line can hold tens of thousands of entries during a replay; taken entries are
 * dropped in bulk instead, once they are most of the array.
 */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest entry, taken off the line; undefined when the line is empty. */
  take(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.head += 1;
    return item;
  }

  /** Frees the taken part when it outweighs the rest (amortised O(1) per take). */
  compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
