/**
 * `stream.maxDeadLetterRate: { ratio, window }`: breached when more than
 * `ratio × window` of the last `window` records were dead-lettered. Counting
 * dead letters against the fixed window (not against however few records were
 * seen so far) keeps one bad record at start-up from counting as a 100 % rate.
 * The sink reports per batch, so when a batch straddles the window edge its
 * dead letters are counted pro rata.
 */
export interface DeadLetterRateLimit { readonly ratio: number; readonly window: number }

export interface RateReading {
  readonly dead: number;
  readonly records: number;
  readonly exceeded: boolean;
}

export class DeadLetterRate {
  private readonly batches: { records: number; dead: number }[] = [];
  private held = 0;

  constructor(private readonly limit: DeadLetterRateLimit) {}

  /** Adds a batch (records processed, of which dead-lettered) and reads the rate over the last window. */
  add(records: number, dead: number): RateReading {
    if (records > 0) this.batches.push({ records, dead });
    this.held += records;
    // Keep only the batches needed to cover the window.
    while (this.batches.length > 1 && this.held - this.batches[0].records >= this.limit.window) this.held -= this.batches.shift()!.records;
    return this.read();
  }

  read(): RateReading {
    let records = 0;
    let dead = 0;
    for (let i = this.batches.length - 1; i >= 0 && records < this.limit.window; i--) {
      const b = this.batches[i];
      const take = Math.min(b.records, this.limit.window - records);
      records += take;
      dead += (b.dead * take) / b.records;
    }
    const rounded = Math.round(dead * 1000) / 1000;
    return { dead: rounded, records, exceeded: rounded > this.limit.ratio * this.limit.window };
  }
}
