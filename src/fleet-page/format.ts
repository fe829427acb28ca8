/** "3h 12m", "45s", "2d 4h": how long, for people. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** `2026-12-02 02:00:00 UTC`: the moment shown, unambiguous across an operations team's time zones. */
export function utc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

export const SEVERITY_COLOURS: Record<string, string> = {
  AVAILABILITY: '#e5484d',
  ERROR: '#f76b15',
  PERFORMANCE: '#ffc53d',
  RESOURCE_CONTENTION: '#f5a524',
  CUSTOM_ALERT: '#ab4aba',
  MONITORING_UNAVAILABLE: '#8b8d98',
};

export const STATE_LABELS: Record<string, string> = {
  onboarding: 'Onboarding',
  'needs-attention': 'Needs attention',
  healing: 'Healing',
  problems: 'Open problems',
  stale: 'Data too old',
  healthy: 'Healthy',
};

/** `RESOURCE_CONTENTION` -> `resource contention`. */
export function severityLabel(severity: string): string {
  return severity.toLowerCase().replace(/_/g, ' ');
}
