// Sets of disjoint address ranges, for overlap checks and free-RAM placement.
/** A half-open range [start, end) of addresses with the name of what occupies it. */
export interface Interval {
  name: string;
  start: number;
  end: number;
}

/**
 * Disjoint intervals kept sorted by start, so checking a new one costs a binary search
 * rather than a scan: systems with thousands of maps stay fast.
 */
export class DisjointIntervals {
  private readonly sorted: Interval[] = [];
  /** Insertion order, so an overlap reports the earliest declared interval, as Microkit does. */
  private readonly order = new Map<Interval, number>();

  /** The earliest-added interval overlapping [start, end), if any. */
  firstOverlap(start: number, end: number): Interval | undefined {
    let index = this.lowerBound(start);
    if (index > 0 && this.sorted[index - 1]!.end > start) index--;
    let earliest: Interval | undefined;
    for (; index < this.sorted.length && this.sorted[index]!.start < end; index++) {
      const candidate = this.sorted[index]!;
      if (candidate.end <= start) continue;
      if (!earliest || this.order.get(candidate)! < this.order.get(earliest)!) earliest = candidate;
    }
    return earliest;
  }

  /** Adds an interval that overlaps none already present. */
  add(interval: Interval): void {
    this.order.set(interval, this.order.size);
    this.sorted.splice(this.lowerBound(interval.start), 0, interval);
  }

  /** Index of the first interval whose start is at or after `start`. */
  private lowerBound(start: number): number {
    let low = 0;
    let high = this.sorted.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.sorted[middle]!.start < start) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
