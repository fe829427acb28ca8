import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BundleOptions } from '@temporalio/worker';
import { failureConverterPath } from '../codec/data-converter.js';

const here = fileURLToPath(import.meta.url);
const workflowsDir = path.join(path.dirname(here), '..', 'workflows');
// Under tsx this module is src/workers/*.ts, in the container dist/workers/*.js.
const ext = path.extname(here);
export const workflowsPath = path.join(workflowsDir, `index${ext}`);

/**
 * How the workflow bundle is built wherever it is built (the image, the sandbox, the tests): zod is
 * loaded once per workflow thread, not once per workflow (see workflows/preloaded-modules.ts).
 */
export const workflowBundleOptions = {
  workflowsPath,
  failureConverterPath,
  preloadModules: [path.join(workflowsDir, `preloaded-modules${ext}`)],
} satisfies BundleOptions;
