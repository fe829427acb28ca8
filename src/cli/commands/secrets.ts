import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/config.js';
import { createSecretStore } from '../../secrets/create-secret-store.js';
import { withSandboxSecretKey } from '../../secrets/sandbox-key.js';
import {
  STANDARDS_SECRET_NAME,
  STANDARDS_SECRET_PREFIX,
  standardsSecretRef,
} from '../../standards/standards-secrets.js';
import { CliError } from '../cli-error.js';
import type { Print } from '../output.js';

export const secretsUsage = [
  'autopilot secrets set standards/<name> --file <file>',
  '  autopilot secrets set-ssh-key <name> --file <private key file>',
].join('\n');

/** The file's text, or a CliError naming the file and why it cannot be read. */
function readSecretFile(file: string | undefined): string {
  if (!file) throw new CliError('--file is required');
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function parse(rest: string[]) {
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { file: { type: 'string' } },
  });
  if (positionals.length > 1) throw new CliError(`one name only, then --file: ${positionals.slice(1).join(' ')}`);
  return { name: positionals[0], file: values.file };
}

/**
 * Puts secrets into the secret store, read from a file so they appear in no shell history or process
 * list, and never printed: SSH private keys that enrollments name (`--ssh-key <name>`), and the
 * secrets standards write into settings (`{{ secret "standards/<name>" }}`). Only those two
 * namespaces: the store also holds Autopilot's own tokens, which no command here may replace.
 */
export async function secretsCommand(argv: string[], print: Print): Promise<number> {
  const [action, ...rest] = argv;
  if (action === 'set-ssh-key') {
    const { name, file } = parse(rest);
    if (!name || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name))
      throw new CliError('the key name must be lowercase letters, digits, ".", "_" or "-"');
    const key = readSecretFile(file);
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) throw new CliError(`${file} does not hold a private key`);
    const store = createSecretStore(withSandboxSecretKey(loadConfig()));
    await store.put(`ssh/${name}`, key, { kind: 'ssh-private-key' });
    print(`stored SSH key "${name}" in the ${store.kind} secret store; use it with --ssh-key ${name}`);
    return 0;
  }
  if (action === 'set') {
    const { name: ref, file } = parse(rest);
    const name = ref?.startsWith(STANDARDS_SECRET_PREFIX) ? ref.slice(STANDARDS_SECRET_PREFIX.length) : undefined;
    if (name === undefined || !STANDARDS_SECRET_NAME.test(name)) {
      throw new CliError(
        `${ref ? JSON.stringify(ref) : 'the reference'} must be ${STANDARDS_SECRET_PREFIX}<name>, the name lowercase letters, ` +
          'digits, ".", "_" or "-" (secrets set stores secrets for standards; SSH keys: autopilot secrets set-ssh-key)',
      );
    }
    // One line ending, as editors leave it, is not part of the secret.
    const value = readSecretFile(file).replace(/\r?\n$/, '');
    if (value === '') throw new CliError(`${file} is empty`);
    const store = createSecretStore(withSandboxSecretKey(loadConfig()));
    await store.put(standardsSecretRef(name), value, { kind: 'standards-secret' });
    print(
      `stored ${standardsSecretRef(name)} in the ${store.kind} secret store; ` +
        `standards write it with {{ secret "${standardsSecretRef(name)}" }}`,
    );
    return 0;
  }
  throw new CliError(`usage: ${secretsUsage}`);
}
