import type { TokenPurpose } from './registry.js';

/** One maintenance run's work, from the registry alone: what is due where. */
export interface DueEnvironment {
  environmentId: string;
  /** Current tokens of ours that expire within the rotation margin. */
  rotate: TokenPurpose[];
  /** Tokens we replaced whose grace period is over. */
  revoke: string[];
  scopeCheck: boolean;
}

export interface MaintenancePage {
  due: DueEnvironment[];
  /** Where the next page starts; absent on the last one. */
  after?: string;
}

/** What one maintenance run did in one environment. */
export interface EnvironmentMaintenance {
  environmentId: string;
  outcome: 'maintained' | 'needs-attention' | 'failed';
  rotated: { purpose: TokenPurpose; tokenId: string; replaced?: string }[];
  revoked: string[];
  orphansRevoked: string[];
  scopesChecked: boolean;
  reason?: string;
}

export interface MaintenanceReport {
  asOf: string;
  environmentsDue: number;
  rotated: number;
  revoked: number;
  orphansRevoked: number;
  scopesChecked: number;
  needsAttention: number;
  failed: number;
  /** Per environment, for the ones with something due (the first 500; counts above are complete). */
  environments: EnvironmentMaintenance[];
}

export const FLEET_MAINTENANCE_SCHEDULE_ID = 'fleet-maintenance';

export const FLEET_MAINTENANCE = 'FleetMaintenance';

export interface FleetMaintenanceInput {
  /** Environments one activity works on. */
  batchSize?: number;
}
