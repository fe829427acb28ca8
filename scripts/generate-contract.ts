import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../src/config/config.js';
import { breakingChanges, contractDocuments, type ContractJson } from './contract/contract-documents.js';

/**
 * `npm run docs:contract`: writes docs/contract/ from the schemas the code validates with. It
 * refuses to write a contract that breaks clients of the one there unless its major version was
 * raised (scripts/contract/workflow-contract.ts).
 */
const dir = path.join(projectRoot, 'docs/contract');
const files = contractDocuments();
const current = path.join(dir, 'workflows.json');
if (existsSync(current)) {
  const before = JSON.parse(readFileSync(current, 'utf8')) as ContractJson;
  const after = JSON.parse(files.get('workflows.json')!) as ContractJson;
  const broken = breakingChanges(before, after);
  const major = (v: string) => Number(v.split('.')[0]);
  if (broken.length > 0 && major(after.version) <= major(before.version)) {
    console.error(
      `docs:contract: these changes break clients of contract ${before.version}; raise CONTRACT_VERSION's major version:\n` +
        broken.map((b) => `  - ${b}`).join('\n'),
    );
    process.exit(1);
  }
}
for (const [file, text] of files) {
  mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  writeFileSync(path.join(dir, file), text);
}
console.log(`docs:contract: wrote ${files.size} files to ${path.relative(process.cwd(), dir)}/`);
