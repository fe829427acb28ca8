const BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500];

/** Counters and a latency histogram of the receiver, in the Prometheus text format. */
export class WebhookMetrics {
  private readonly responses = new Map<number, number>();
  private readonly outcomes = new Map<string, number>();
  private readonly keys = new Map<'current' | 'previous', number>();
  private readonly latency = new Array<number>(BUCKETS_MS.length + 1).fill(0);
  private latencySum = 0;
  private latencyCount = 0;

  response(status: number, ms: number): void {
    this.responses.set(status, (this.responses.get(status) ?? 0) + 1);
    const bucket = BUCKETS_MS.findIndex((b) => ms <= b);
    this.latency[bucket < 0 ? BUCKETS_MS.length : bucket]!++;
    this.latencySum += ms;
    this.latencyCount++;
  }

  outcome(kind: 'accepted' | 'lookup' | 'duplicate' | 'test' | 'signal_failed', count = 1): void {
    this.outcomes.set(kind, (this.outcomes.get(kind) ?? 0) + count);
  }

  /** A request that passed the key check, by the master its key comes from (a rotation's progress). */
  authenticated(key: 'current' | 'previous'): void {
    this.keys.set(key, (this.keys.get(key) ?? 0) + 1);
  }

  count(kind: string): number {
    return this.outcomes.get(kind) ?? 0;
  }

  render(): string {
    const lines = [
      '# HELP autopilot_webhook_responses_total Webhook responses by HTTP status.',
      '# TYPE autopilot_webhook_responses_total counter',
      ...[...this.responses].map(([status, n]) => `autopilot_webhook_responses_total{status="${status}"} ${n}`),
      '# HELP autopilot_webhook_notifications_total Notifications by outcome.',
      '# TYPE autopilot_webhook_notifications_total counter',
      ...[...this.outcomes].map(([kind, n]) => `autopilot_webhook_notifications_total{outcome="${kind}"} ${n}`),
      '# HELP autopilot_webhook_authenticated_total Webhook requests past the key check, by master key (previous: a rotation is not finished).',
      '# TYPE autopilot_webhook_authenticated_total counter',
      ...[...this.keys].map(([key, n]) => `autopilot_webhook_authenticated_total{key="${key}"} ${n}`),
      '# HELP autopilot_webhook_request_duration_ms Time to answer a webhook request.',
      '# TYPE autopilot_webhook_request_duration_ms histogram',
    ];
    let cumulative = 0;
    BUCKETS_MS.forEach((b, i) => {
      cumulative += this.latency[i]!;
      lines.push(`autopilot_webhook_request_duration_ms_bucket{le="${b}"} ${cumulative}`);
    });
    cumulative += this.latency[BUCKETS_MS.length]!;
    lines.push(`autopilot_webhook_request_duration_ms_bucket{le="+Inf"} ${cumulative}`);
    lines.push(`autopilot_webhook_request_duration_ms_sum ${this.latencySum}`);
    lines.push(`autopilot_webhook_request_duration_ms_count ${this.latencyCount}`);
    return lines.join('\n') + '\n';
  }
}
