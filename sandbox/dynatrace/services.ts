import type { SimulatorKnobs } from './knobs.js';
import type { NotificationDispatcher } from './notifications.js';
import type { SimulatorState } from './state.js';
import type { SimulatorStats } from './stats.js';
import type { InstallerBuilds } from './installer-builds.js';

/** What route handlers share: the state, counters, knobs and the background machinery. */
export interface SimulatorServices {
  state: SimulatorState;
  stats: SimulatorStats;
  knobs: () => SimulatorKnobs;
  baseUrl: () => string;
  notifications: NotificationDispatcher;
  installers: InstallerBuilds;
  /** Schedules a save of the state file (when one is configured). */
  changed: () => void;
}
