import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { HostStatusReport } from '../../shared/enrollment.js';
import type { FleetProgress } from '../../shared/fleet.js';

/** Sent by each HostEnrollment of a fleet whenever its state changes; the fleet's id outlives continue-as-new. */
export const hostStatusSignal = defineSignal<[HostStatusReport]>('hostStatus');
export const fleetProgressQuery = defineQuery<FleetProgress>('fleetProgress');
