import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/config.js';
import { createSecretStore } from '../../secrets/create-secret-store.js';
import { withSandboxSecretKey } from '../../secrets/sandbox-key.js';
import { CliError } from '../cli-error.js';
import type { Print } from '../output.js';

export const secretsUsage = 'autopilot secrets set-ssh-key <name> --file <private key file>';

/** Stores an SSH private key in the secret store, so enrollments can name it (`--ssh-key <name>`). */
export async function secretsCommand(argv: string[], print: Print): Promise<number> {
  const [action, ...rest] = argv;
  if (action !== 'set-ssh-key') throw new CliError(`usage: ${secretsUsage}`);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { file: { type: 'string' } },
  });
  const name = positionals[0];
  if (!name || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name))
    throw new CliError('the key name must be lowercase letters, digits, ".", "_" or "-"');
  if (!values.file) throw new CliError('--file is required');
  let key: string;
  try {
    key = readFileSync(values.file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${values.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) throw new CliError(`${values.file} does not hold a private key`);
  const store = createSecretStore(withSandboxSecretKey(loadConfig()));
  await store.put(`ssh/${name}`, key, { kind: 'ssh-private-key' });
  print(`stored SSH key "${name}" in the ${store.kind} secret store; use it with --ssh-key ${name}`);
  return 0;
}
