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
 * How the workflow bundle is built wherever it is built (the image, the sandbox, the tests): zod and
 * the workflows' own modules are loaded once per workflow thread, not once per workflow (see
 * workflows/preloaded-modules.ts), no query may advance a run outside a workflow task
 * (workflows/task-boundary-guard.ts), and only calls sealed with a codec key reach a workflow
 * (workflows/sealed-calls-guard.ts).
 */
export const workflowBundleOptions = {
  workflowsPath,
  failureConverterPath,
  preloadModules: [path.join(workflowsDir, `preloaded-modules${ext}`), workflowsPath],
  workflowInterceptorModules: [
    path.join(workflowsDir, `task-boundary-guard${ext}`),
    path.join(workflowsDir, `sealed-calls-guard${ext}`),
  ],
} satisfies BundleOptions;

const noop = () => undefined;
/** For building a bundle outside a worker (tests, benchmarks): webpack's report only when it warns or fails. */
export const quietBundlerLogger = {
  log: noop,
  trace: noop,
  debug: noop,
  info: noop,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
