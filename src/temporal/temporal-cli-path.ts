import path from 'node:path';
import { projectRoot } from '../config/project-root.js';

/** Where `npm run setup` (scripts/setup-tools.sh) installs the pinned Temporal CLI. */
const PINNED_TEMPORAL_CLI = '.tools/bin/temporal';

/**
 * The Temporal CLI that runs dev servers (npm start, the tests, the benchmarks): `TEMPORAL_CLI_PATH`
 * when set, relative to the project root, else the project's pinned one.
 */
export function temporalCliPath(configured: string | undefined = process.env.TEMPORAL_CLI_PATH): string {
  // Blank counts as unset, as for every configuration variable.
  return path.resolve(projectRoot, configured?.trim() ? configured : PINNED_TEMPORAL_CLI);
}
