import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { ConfigError } from '../config/config-error.js';
import { inspectInstallerSignature, verifyInstallerSignature } from '../dynatrace/installer-signature.js';
import { FailureType } from '../shared/failure-types.js';
import type { InstallerManifest } from './installer-store.js';

/**
 * What a downloaded OneAgent installer must prove before it may run as root on hosts. It is decided
 * once per worker, from its configuration and whether it is the sandbox:
 * - `verify`: its S/MIME signature verifies against the configured CA (DT_INSTALLER_CA_FILE);
 * - `shape-only`: a signature of the right shape is enough, because this is the sandbox (whose
 *   simulator signs with a throw-away certificate) or because the operator said so
 *   (AUTOPILOT_INSTALLER_SIGNATURE=shape-only);
 * - `unverifiable`: no CA and no such consent, so every installer is refused.
 */
export type InstallerTrust =
  | { check: 'verify'; caFile: string }
  | { check: 'shape-only'; acceptedBy: 'sandbox' | 'operator' }
  | { check: 'unverifiable' };

export function installerTrustOf(options: {
  caFile: string | undefined;
  signature: 'verify' | 'shape-only';
  sandbox: boolean;
}): InstallerTrust {
  if (options.caFile) return { check: 'verify', caFile: options.caFile };
  if (options.sandbox) return { check: 'shape-only', acceptedBy: 'sandbox' };
  if (options.signature === 'shape-only') return { check: 'shape-only', acceptedBy: 'operator' };
  return { check: 'unverifiable' };
}

/** What to configure when installers cannot be verified: said in the refusal, at start and by the doctor. */
export const UNVERIFIABLE_INSTALLERS =
  'no DT_INSTALLER_CA_FILE to verify OneAgent installer signatures against, so every installer is refused: ' +
  "set DT_INSTALLER_CA_FILE to Dynatrace's root CA (https://ca.dynatrace.com/dt-root.cert.pem), " +
  'or accept signatures checked by their shape alone with AUTOPILOT_INSTALLER_SIGNATURE=shape-only';

/** The refusal of an installer (`which` names it) by a worker that has nothing to verify it against. */
export function unverifiableInstaller(which: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `${which} is refused: ${UNVERIFIABLE_INSTALLERS}`,
    FailureType.InstallerSignatureUnverifiable,
  );
}

/**
 * The warning a worker logs at every start (and the doctor shows) when installers would not be
 * fully verified outside the sandbox; undefined when there is nothing to warn about.
 */
export function installerTrustWarning(trust: InstallerTrust): string | undefined {
  if (trust.check === 'unverifiable') return UNVERIFIABLE_INSTALLERS;
  if (trust.check === 'shape-only' && trust.acceptedBy === 'operator') {
    return (
      'AUTOPILOT_INSTALLER_SIGNATURE=shape-only: OneAgent installers are not verified against a CA, only the shape of ' +
      'their signature is checked, and they run as root on every host; set DT_INSTALLER_CA_FILE to verify them'
    );
  }
  return undefined;
}

/**
 * The configured CA, read and parsed: a file that is missing or holds no certificate is a
 * configuration error naming the variable, found at start rather than at the first onboarding.
 */
export function readInstallerCa(caFile: string): X509Certificate {
  let pem: string;
  try {
    pem = readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new ConfigError('DT_INSTALLER_CA_FILE', `cannot be read (${caFile}): ${(err as Error).message}`);
  }
  try {
    return new X509Certificate(pem);
  } catch {
    throw new ConfigError('DT_INSTALLER_CA_FILE', `holds no PEM certificate (${caFile})`);
  }
}

/**
 * Checks a staged installer as this worker's trust demands, before it is stored or run anywhere.
 * Returns what was checked, for the store's manifest; refuses with a non-retryable failure
 * otherwise (the caller removes the file).
 */
export async function checkInstallerSignature(
  file: string,
  trust: InstallerTrust,
  installer: { environmentId: string; version: string },
): Promise<InstallerManifest['signature']> {
  const which = `the installer ${installer.version} of ${installer.environmentId}`;
  if (trust.check === 'unverifiable') throw unverifiableInstaller(which);
  const shape = await inspectInstallerSignature(file);
  if (!shape.ok) {
    throw ApplicationFailure.nonRetryable(
      `${which} is not signed: ${shape.reason}`,
      FailureType.InstallerSignatureInvalid,
    );
  }
  if (trust.check === 'shape-only') return 'shape-checked';
  const verified = await verifyInstallerSignature(file, trust.caFile);
  if (!verified.ok) {
    throw ApplicationFailure.nonRetryable(
      `${which} fails signature verification against DT_INSTALLER_CA_FILE (${trust.caFile}): ${verified.detail}`,
      FailureType.InstallerSignatureInvalid,
    );
  }
  return 'verified';
}
