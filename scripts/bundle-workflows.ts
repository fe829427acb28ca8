// Pre-bundles the workflow code for containers, so a worker starts without running webpack.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowBundleOptions } from '../src/workers/workflow-bundle.js';

const output = process.argv[2];
if (!output) {
  console.error('usage: tsx scripts/bundle-workflows.ts <output.js>');
  process.exit(2);
}
const { code } = await bundleWorkflowCode(workflowBundleOptions);
mkdirSync(path.dirname(output), { recursive: true });
writeFileSync(output, code);
console.log(`workflow bundle written to ${output} (${(code.length / 1024).toFixed(0)} KiB)`);
