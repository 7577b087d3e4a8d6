/**
 * A few Prometheus metrics, written in the text exposition format. Small
 * enough that a client library would not earn its place.
 */

import type { SelfCheckStatus } from './selfCheck.js';

type Labels = Record<string, string>;

const labelText = (labels: Labels) => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};

/** A monotonically increasing count, per label set. */
export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const at = this.values.get(key);
    if (at) at.value += by;
    else this.values.set(key, { labels, value: by });
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines.join('\n');
  }
}

/** Observations counted into cumulative buckets. */
export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) this.counts[i]!++;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{le="${b}"} ${this.counts[i]}`));
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
    return lines.join('\n');
  }
}

/** A value read when scraped. */
export class Gauge {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
  ) {}

  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, `${this.name} ${this.read()}`].join('\n');
  }
}

/** The collector's metrics. */
export function createMetrics(read: { size: () => number; checkpointAge: () => number; queued: () => number; selfCheck: () => SelfCheckStatus | undefined }) {
  // NaN (Prometheus' "no value") until the first self-check has ended.
  const last = <T>(of: (s: SelfCheckStatus) => T) => () => {
    const s = read.selfCheck();
    return s === undefined ? NaN : Number(of(s));
  };
  const m = {
    accepted: new Counter('stele_events_accepted_total', 'Events appended to the log (duplicates not counted).'),
    duplicates: new Counter('stele_events_duplicate_total', 'Events whose id was already in the log with the same content.'),
    rejected: new Counter('stele_events_rejected_total', 'Events refused, by reason (the API error code).'),
    latency: new Histogram('stele_http_request_duration_seconds', 'HTTP request latency.', [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]),
    batch: new Histogram('stele_commit_batch_events', 'Events per group commit.', [1, 2, 5, 10, 50, 100, 500, 1000, 5000, 10000]),
    size: new Gauge('stele_tree_size', 'Entries in the log.', read.size),
    age: new Gauge('stele_checkpoint_age_seconds', 'Seconds since the latest checkpoint was signed.', read.checkpointAge),
    queued: new Gauge('stele_append_queue_events', 'Events waiting for a commit.', read.queued),
    selfCheckOk: new Gauge('stele_self_check_ok', "1 when the collector's last verification of its whole log held, 0 when it failed or could not run.", last((s) => s.ok)),
    selfCheckSize: new Gauge('stele_self_check_size', 'Entries the last verification that held covered.', last((s) => (s.ok ? s.size : NaN))),
    selfCheckTime: new Gauge('stele_self_check_timestamp_seconds', 'When the last verification ended (Unix time).', last((s) => Date.parse(s.finished) / 1000)),
    selfCheckSeconds: new Gauge('stele_self_check_duration_seconds', 'How long the last verification took.', last((s) => s.seconds)),
  };
  return { ...m, render: () => Object.values(m).map((x) => x.render()).join('\n') + '\n' };
}

/** The collector's metrics object. */
export type Metrics = ReturnType<typeof createMetrics>;
