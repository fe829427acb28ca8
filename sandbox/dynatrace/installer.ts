import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { InstallerSigningMaterial } from './state.js';

const run = promisify(execFile);

export const SIGNATURE_BOUNDARY = '----SIGNED-INSTALLER';

/** A self-signed signing certificate, standing in for Dynatrace's installer CA. */
export async function generateSigningMaterial(): Promise<InstallerSigningMaterial> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dt-sim-ca-'));
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '3650',
      '-subj',
      '/O=Dynatrace Autopilot sandbox/CN=Simulated OneAgent installer signing',
    ]);
    return { certificatePem: readFileSync(cert, 'utf8'), privateKeyPem: readFileSync(key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface InstallerParameters {
  version: string;
  tenant: string;
  tenantToken: string;
  communicationEndpoint: string;
  sizeBytes: number;
  /**
   * The certificate the communication endpoint presents, when it is the simulator's own over https:
   * the installer trusts it for its connection, as a real installer carries what its server needs.
   */
  serverCertificatePem?: string;
}

/**
 * The OneAgent installer for one environment and version: a POSIX shell script, pre-configured for
 * the environment like the real download (reference §4), that honours the documented `--set-*`
 * parameters and `INSTALL_PATH=`, registers the host through the simulated agent-connect endpoint,
 * and carries an S/MIME signature after `----SIGNED-INSTALLER` exactly where the real one does.
 */
export async function buildSignedInstaller(
  params: InstallerParameters,
  signing: InstallerSigningMaterial,
): Promise<Buffer> {
  const script = installerScript(params);
  return signInstaller(script, signing);
}

/** Any script with the installer's signature layout (tests sign their own tiny installers with it). */
export async function signInstaller(content: string, signing: InstallerSigningMaterial): Promise<Buffer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dt-sim-sign-'));
  try {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    const input = path.join(dir, 'installer.sh');
    writeFileSync(cert, signing.certificatePem);
    writeFileSync(key, signing.privateKeyPem, { mode: 0o600 });
    writeFileSync(input, content);
    // Text mode (no -binary): the signature covers the CRLF-canonical form, which is what
    // `openssl cms -verify` recomputes from the LF file. -noattr: no signing time, so a version's
    // bytes (and ETag) never change.
    const { stdout } = await run('openssl', ['cms', '-sign', '-signer', cert, '-inkey', key, '-noattr', '-in', input], {
      maxBuffer: 512 * 1024 * 1024,
      encoding: 'buffer',
    });
    return toInstallerLayout(stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `openssl cms -sign` prints a multipart/signed S/MIME message. The installer file is that message's
 * body from the first part on, with the MIME boundary renamed to `----SIGNED-INSTALLER`; verifiers
 * put the header back in front (reference §4, the Ansible role's construction).
 */
function toInstallerLayout(smime: Buffer): Buffer {
  const text = smime.toString('latin1').replace(/\r\n/g, '\n');
  const boundary = /boundary="([^"]+)"/.exec(text)?.[1];
  if (!boundary) throw new Error('openssl produced no multipart/signed output');
  const firstPart = text.indexOf(`--${boundary}`);
  const body = text.slice(firstPart + `--${boundary}`.length).replace(/^\n/, '');
  return Buffer.from(body.split(`--${boundary}`).join(SIGNATURE_BOUNDARY), 'latin1');
}

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

function installerScript(p: InstallerParameters): string {
  const head = `#!/bin/sh
# Dynatrace OneAgent installer, version ${p.version}
# Served by the Dynatrace Autopilot sandbox's Managed simulator. Pre-configured for environment ${p.tenant}.

INSTALLER_VERSION=${shellQuote(p.version)}
DT_SERVER=${shellQuote(p.communicationEndpoint)}
DT_TENANT=${shellQuote(p.tenant)}
DT_TENANT_TOKEN=${shellQuote(p.tenantToken)}
SERVER_CA_PEM=${shellQuote(p.serverCertificatePem ?? '')}
INSTALL_PATH=/opt/dynatrace/oneagent
HOST_NAME=
HOST_GROUP=
HOST_TAGS=
HOST_PROPERTIES=
MONITORING_MODE=fullstack

log() { printf '%s %s\\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*"; }
fail() { code=$1; shift; log "Error: $*" >&2; exit "$code"; }
json_escape() { printf '%s' "$1" | sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g'; }

for arg in "$@"; do
  case "$arg" in
    --set-host-name=*) HOST_NAME=\${arg#*=} ;;
    --set-host-group=*) HOST_GROUP=\${arg#*=} ;;
    --set-host-tag=*) HOST_TAGS="$HOST_TAGS\${HOST_TAGS:+ }\${arg#*=}" ;;
    --set-host-property=*) HOST_PROPERTIES="$HOST_PROPERTIES\${HOST_PROPERTIES:+ }\${arg#*=}" ;;
    --set-monitoring-mode=*) MONITORING_MODE=\${arg#*=} ;;
    --set-server=*) DT_SERVER=\${arg#*=} ;;
    --set-tenant=*) DT_TENANT=\${arg#*=} ;;
    --set-tenant-token=*) DT_TENANT_TOKEN=\${arg#*=} ;;
    --set-network-zone=*|--set-proxy=*|--set-auto-update-enabled=*|--set-host-id-source=*|--set-app-log-content-access=*|--set-infra-only=*) ;;
    INSTALL_PATH=*) INSTALL_PATH=\${arg#*=} ;;
    *) fail 2 "Unknown parameter: $arg" ;;
  esac
done

case "$MONITORING_MODE" in fullstack|infra-only|discovery) ;; *) fail 2 "Invalid monitoring mode: $MONITORING_MODE" ;; esac

log "Installing Dynatrace OneAgent $INSTALLER_VERSION into $INSTALL_PATH"
INSTALLED_VERSION_FILE="$INSTALL_PATH/agent/installer.version"
if [ -f "$INSTALLED_VERSION_FILE" ]; then
  log "Found OneAgent $(cat "$INSTALLED_VERSION_FILE"), it will be replaced by $INSTALLER_VERSION"
fi
mkdir -p "$INSTALL_PATH/agent/tools" "$INSTALL_PATH/agent/conf" 2>/dev/null \\
  || fail 5 "Cannot create $INSTALL_PATH; the installer needs root privileges"

DETECTED_NAME=$(hostname 2>/dev/null || uname -n)
EFFECTIVE_NAME=\${HOST_NAME:-$DETECTED_NAME}
BODY=$(printf '{"tenant":"%s","tenantToken":"%s","hostName":"%s","detectedName":"%s","hostGroup":"%s","tags":"%s","properties":"%s","monitoringMode":"%s","installerVersion":"%s","installPath":"%s"}' \\
  "$(json_escape "$DT_TENANT")" "$(json_escape "$DT_TENANT_TOKEN")" "$(json_escape "$HOST_NAME")" \\
  "$(json_escape "$DETECTED_NAME")" "$(json_escape "$HOST_GROUP")" "$(json_escape "$HOST_TAGS")" \\
  "$(json_escape "$HOST_PROPERTIES")" "$MONITORING_MODE" "$INSTALLER_VERSION" "$(json_escape "$INSTALL_PATH")")

RESPONSE_FILE="$INSTALL_PATH/agent/conf/connect-response.json"
SERVER_CA_FILE=
if [ -n "$SERVER_CA_PEM" ]; then
  SERVER_CA_FILE="$INSTALL_PATH/agent/conf/server-ca.pem"
  printf '%s\\n' "$SERVER_CA_PEM" > "$SERVER_CA_FILE"
fi
if command -v curl >/dev/null 2>&1; then
  STATUS=$(curl -sS -o "$RESPONSE_FILE" -w '%{http_code}' \${SERVER_CA_FILE:+--cacert "$SERVER_CA_FILE"} -X POST -H 'Content-Type: application/json' --data "$BODY" "$DT_SERVER/oneagent/connect") \\
    || fail 10 "Cannot reach the Dynatrace server at $DT_SERVER"
elif command -v wget >/dev/null 2>&1; then
  if wget -q -O "$RESPONSE_FILE" \${SERVER_CA_FILE:+--ca-certificate="$SERVER_CA_FILE"} --header='Content-Type: application/json' --post-data="$BODY" "$DT_SERVER/oneagent/connect"; then STATUS=200; else STATUS=500; fi
else
  fail 6 "Neither curl nor wget is available"
fi
if [ "$STATUS" != 200 ]; then
  log "Error: OneAgent could not connect to $DT_SERVER (HTTP $STATUS): $(cat "$RESPONSE_FILE" 2>/dev/null)" >&2
  rm -f "$INSTALLED_VERSION_FILE"
  exit 1
fi

printf '%s\\n' "$INSTALLER_VERSION" > "$INSTALLED_VERSION_FILE"
cat > "$INSTALL_PATH/agent/tools/oneagentctl" <<ONEAGENTCTL
#!/bin/sh
for arg in "\\$@"; do
  case "\\$arg" in
    --version) echo '$INSTALLER_VERSION' ;;
    --get-host-name) echo '$EFFECTIVE_NAME' ;;
    --get-host-group) echo '$HOST_GROUP' ;;
    --get-host-tags) echo '$HOST_TAGS' ;;
    --get-tenant) echo '$DT_TENANT' ;;
    --get-server) echo '$DT_SERVER' ;;
    --get-monitoring-mode) echo '$MONITORING_MODE' ;;
    *) echo "Unsupported parameter: \\$arg" >&2; exit 2 ;;
  esac
done
ONEAGENTCTL
chmod +x "$INSTALL_PATH/agent/tools/oneagentctl"
log "Dynatrace OneAgent $INSTALLER_VERSION is installed and connected as $EFFECTIVE_NAME (host group: \${HOST_GROUP:-none})"
exit 0
# ---- embedded agent archive (simulated payload) ----
`;
  return head + padding(p, Math.max(0, p.sizeBytes - Buffer.byteLength(head))) + '\n';
}

/** Deterministic filler standing in for the embedded archive, so a version's bytes never change. */
function padding(p: InstallerParameters, bytes: number): string {
  const lines: string[] = [];
  let produced = 0;
  let counter = 0;
  while (produced < bytes) {
    const block = createHash('sha512').update(`${p.tenant}:${p.version}:${counter++}`).digest('base64');
    const line = `#${block}`;
    lines.push(line);
    produced += line.length + 1;
  }
  return lines.join('\n');
}
