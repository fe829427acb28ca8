import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { AUTOPILOT_SEARCH_ATTRIBUTES } from '../src/shared/search-attributes.js';
import { quietBundlerLogger, workflowBundleOptions } from '../src/workers/workflow-bundle.js';
import { projectRoot } from '../src/config/config.js';
import { temporalCliPath } from '../src/temporal/temporal-cli-path.js';
import { startMotoServer } from '../sandbox/moto-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    workflowBundlePath: string;
    motoUrl: string;
  }
}

/**
 * One real Temporal dev server (the pinned CLI, never a download, never a mock) and one workflow
 * bundle for the whole test run; test files connect to it with `createFromExistingServer`.
 */
export default async function setup(project: TestProject) {
  const cliPath = temporalCliPath();
  if (!existsSync(cliPath)) {
    throw new Error(`Temporal CLI missing at ${cliPath}: run \`npm run setup\` (npm test does it for you)`);
  }
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cliPath },
      searchAttributes: AUTOPILOT_SEARCH_ATTRIBUTES,
      log: { format: 'json', level: 'error' },
    },
  });

  const { code } = await bundleWorkflowCode({ ...workflowBundleOptions, logger: quietBundlerLogger });
  const bundleDir = path.join(projectRoot, '.cache', 'test');
  mkdirSync(bundleDir, { recursive: true });
  const workflowBundlePath = path.join(bundleDir, `workflow-bundle-${process.pid}.js`);
  writeFileSync(workflowBundlePath, code);

  project.provide('temporalAddress', env.address);
  project.provide('temporalNamespace', env.namespace ?? 'default');
  project.provide('workflowBundlePath', workflowBundlePath);

  const moto = await startMotoServer({ cliPath: path.resolve(projectRoot, '.tools/bin/moto_server') });
  project.provide('motoUrl', moto.url);

  return async () => {
    rmSync(workflowBundlePath, { force: true });
    await moto.stop();
    await env.teardown();
  };
}
