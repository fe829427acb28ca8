export { startDynatraceSimulator, type DynatraceSimulator, type DynatraceSimulatorOptions } from './server.js';
export type { SimulatorKnobs, SimulatorKnobsInput } from './knobs.js';
export type { SimulatorStatsSnapshot } from './stats.js';
export { SIGNATURE_BOUNDARY } from './installer.js';
