/**
 * What each benchmark module gets, and what it reports. Figures are ratios
 * against a ceiling measured in the same run on the same Postgres, never
 * absolute time limits.
 */
export interface BenchHarness {
  /** A Postgres server dedicated to this bench run (embedded unless BENCH_DATABASE_URL). */
  readonly pgUrl: string;
  /** KAFKA_BROKERS, split; empty when no broker is available. */
  readonly kafkaBrokers: string[];
  /** `quick` (BENCH_SCALE=quick) shrinks row counts ~10x for a smoke run. */
  readonly scale: 'full' | 'quick';
  note(text: string): void;
}

export interface BenchFigure {
  /** e.g. `reconcile 10M verdict`. */
  name: string;
  value: number;
  unit: string;
  /** The ceiling measured in the same run, in the same unit. */
  ceiling: number;
  ceilingName: string;
  /** value/ceiling (or ceiling/value for times: always "how close to the ceiling"). */
  ratio: number;
  /** The target, e.g. `>= 0.8` or `<= 1.5`. */
  target: string;
  pass: boolean;
  detail?: string;
}

export type BenchModule = (h: BenchHarness) => Promise<BenchFigure[]>;
