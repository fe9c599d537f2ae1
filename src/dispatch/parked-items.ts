/**
 * Items given up on until woken. Insertion-ordered, so oldest first, and O(1) to add or
 * drop one: parked events can number 100k, and each finished event may drop one.
 */
export class ParkedItems<I> {
  private readonly items = new Set<I>();

  get size(): number {
    return this.items.size;
  }

  add(item: I): void {
    this.items.add(item);
  }

  /** False when the item was not parked. */
  delete(item: I): boolean {
    return this.items.delete(item);
  }

  /** A copy, oldest first: O(parked). */
  list(): I[] {
    return [...this.items];
  }

  /** Removes the items that match and returns them, oldest first. */
  take(filter: (item: I) => boolean): I[] {
    const taken: I[] = [];
    for (const item of this.items) if (filter(item)) taken.push(item);
    for (const item of taken) this.items.delete(item);
    return taken;
  }
}
