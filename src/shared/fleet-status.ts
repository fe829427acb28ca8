/**
 * What the fleet server tells the fleet status page (`GET /fleet/status[?at=ISO]`), and what its
 * server-sent events (`GET /fleet/events`) announce. The page is built from this alone.
 */

/** Dynatrace's problem severities (`severityLevel`), worst first. */
export const PROBLEM_SEVERITIES = [
  'AVAILABILITY',
  'ERROR',
  'PERFORMANCE',
  'RESOURCE_CONTENTION',
  'CUSTOM_ALERT',
  'MONITORING_UNAVAILABLE',
] as const;
export type ProblemSeverity = (typeof PROBLEM_SEVERITIES)[number];

/** The worse of two severities; an unknown one counts as the mildest. */
export function worseSeverity(a: string | undefined, b: string): string {
  if (a === undefined) return b;
  const rank = (s: string) => {
    const i = (PROBLEM_SEVERITIES as readonly string[]).indexOf(s);
    return i < 0 ? PROBLEM_SEVERITIES.length : i;
  };
  return rank(b) < rank(a) ? b : a;
}

/**
 * One cell's colour, in this order of precedence: an onboarding still running, an environment that
 * needs an operator, a remediation running (healing), open problems, data too old to trust, healthy.
 */
export const CELL_STATES = ['onboarding', 'needs-attention', 'healing', 'problems', 'stale', 'healthy'] as const;
export type CellState = (typeof CELL_STATES)[number];

export interface FleetEnvironmentCell {
  id: string;
  kind: 'managed' | 'saas';
  /** Its Managed cluster; `null` for a SaaS environment (the page groups those under "SaaS"). */
  cluster: string | null;
  customer: string | null;
  stage: string | null;
  /** Only when it has any. */
  tags?: string[];
  state: CellState;
  /** The worst severity of its open problems, when it has any. */
  severity?: string;
  openProblems: number;
  /** A remediation workflow of this environment is running. */
  healing: boolean;
  /** Why it needs attention (from the registry). */
  attention?: string;
  hosts?: number;
  /** OneAgent version -> hosts running it, from the last host scan. */
  agentVersions?: Record<string, number>;
  /** The soonest expiry of the tokens Autopilot holds there. */
  tokensExpireAt?: string;
  /** When its problems were last read successfully, and the last scan's error if that one failed. */
  lastScanAt?: string;
  scanError?: string;
  /** Its data is older than three scan intervals (a slow or unreachable cluster). */
  stale: boolean;
  /** Fields that differ from the standards applied last (open drift rows at the moment shown); only when any. */
  drifted?: number;
}

/** The Temporal UI's list of an environment's runs, from the status's `runsUrlTemplate`. */
export function runsUrl(template: string | undefined, environmentId: string): string | undefined {
  return template?.replace('{environmentId}', encodeURIComponent(`"${environmentId}"`));
}

export interface FleetProblem {
  environmentId: string;
  problemId: string;
  displayId: string;
  title: string;
  severity: string;
  impact: string;
  openedAt: string;
  /** How long it has been open at the moment shown. */
  openSeconds: number;
  affectedEntities: number;
  /** The fleet incident it is part of. */
  incidentId?: string;
}

/** The same problem type opening in many environments within a short window: likely one cause. */
export interface FleetIncident {
  id: string;
  problemType: string;
  openedAt: string;
  closedAt?: string;
  open: boolean;
  environments: string[];
}

export interface AutopilotActivity {
  /** Running workflows by kind (onboardings, enrollments, remediations, ...). */
  running: Record<string, number>;
  /** Running remediations by their `AutopilotPhase`. */
  remediationsByPhase: Record<string, number>;
  /** Runs that are waiting for an operator (phase `needs-attention` or similar). */
  needingAttention: number;
}

export interface ProblemsOverTimePoint {
  at: string;
  open: number;
  bySeverity: Record<string, number>;
}

export interface FleetStatus {
  /** The moment this status describes: now, or the time the slider chose. */
  at: string;
  live: boolean;
  generatedAt: string;
  scan: {
    /** The last scan that finished, and its age when this status was made. */
    lastScanAt?: string;
    ageSeconds?: number;
    intervalSeconds: number;
    /** The last scan is older than three intervals: the page says so loudly. */
    stale: boolean;
    environmentsFailing: number;
  };
  /** The span the time slider may choose from (the retention). */
  history: { from: string; to: string };
  environments: FleetEnvironmentCell[];
  /** Environments with open drift from the standards at `at` (the cells with `drifted`). */
  driftedEnvironments: number;
  /** Open at `at`, longest open first. */
  problems: FleetProblem[];
  /** Open at `at`, and those closed within the last day before it. */
  incidents: FleetIncident[];
  /** Read from Temporal's visibility when live; absent for a moment in the past. */
  autopilot?: AutopilotActivity;
  charts: {
    /** Open problems over the 24 hours before `at`, in even steps. */
    problemsOverTime: ProblemsOverTimePoint[];
    /** Hosts per OneAgent version across the fleet, most hosts first. */
    agentVersions: { version: string; hosts: number }[];
  };
  temporalUiUrl?: string;
  /** The Temporal UI's runs of one environment, with `{environmentId}` to fill in (once, not per cell: 5,000 cells). */
  runsUrlTemplate?: string;
}

/** What `GET /fleet/events` sends: `event: scan` with this as data, after every scan that finished. */
export interface FleetScanEvent {
  lastScanAt: string;
}
