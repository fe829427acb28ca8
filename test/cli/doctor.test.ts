import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/aws/aws-clients.js';
import { startOnboarding } from '../../src/client/start-onboarding.js';
import { CliError } from '../../src/cli/cli-error.js';
import { doctorCommand, type DoctorReport } from '../../src/cli/commands/doctor.js';
import { checkWorkerSettings } from '../../src/cli/doctor-checks.js';
import { loadConfig } from '../../src/config/config.js';
import { requiredScopes, SCOPE_REQUIREMENTS } from '../../src/dynatrace/token-scopes.js';
import { secretRefs } from '../../src/secrets/secret-store.js';
import { startTestAws, type TestAws } from '../helpers/aws.js';
import { startTestbed, type Testbed } from '../helpers/autopilot.js';

// Customer ids of this file only: every test file shares one Temporal server.
const GOOD = 'dcx-p1';
const BROKEN = 'dcy-p1';

/** `GET /e/{environmentId}/api/v2/apiTokens/{id}` and the table's `{tokenId}` name the same route. */
const routeKey = (route: string) => route.replace(/\{[^}]*\}/g, '{}');

describe('autopilot doctor against the simulator', () => {
  let tb: Testbed;
  let aws: TestAws;
  const secretKey = randomBytes(32);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-doctor-'));
  /** Every line the doctor printed in this file: the last test checks that no token value is among them. */
  const printed: string[] = [];
  let onboardingRoutes: string[] = [];

  const baseEnv = (overrides: Record<string, string> = {}): Record<string, string> => ({
    DT_CLUSTER_URL: tb.dt.simulator.url,
    DT_CA_CERT_FILE: tb.dt.simulator.caFile!,
    DT_CLUSTER_TOKEN: tb.dt.clusterToken,
    AUTOPILOT_DATA_DIR: dataDir,
    AUTOPILOT_SECRETS_DIR: path.join(tb.dir, 'secrets'),
    AUTOPILOT_SECRET_KEY: secretKey.toString('base64'),
    // The simulator's signing certificate, as a production worker would name Dynatrace's root CA.
    DT_INSTALLER_CA_FILE: tb.dt.simulator.installerCaFile,
    ...overrides,
  });

  const doctor = async (argv: string[], env: Record<string, string>, awsClients?: AwsClients) => {
    const lines: string[] = [];
    const code = await doctorCommand(argv, (line) => lines.push(line), {
      env,
      ...(awsClients ? { aws: awsClients } : {}),
    });
    printed.push(...lines);
    return { code, lines, text: lines.join('\n') };
  };

  const clusterToken = async (name: string, scopes: string[]) =>
    (await tb.dt.control<{ token: string }>('/cluster-tokens', { name, scopes })).token;

  beforeAll(async () => {
    aws = await startTestAws();
    tb = await startTestbed({ secretKey, tls: true });
    const worker = await tb.worker();
    await worker.runUntil(async () => {
      const handles = await Promise.all(
        ['dcx', 'dcy'].map((customer) =>
          startOnboarding(tb.env.client, { customer, stage: 'p1' }, { taskQueue: tb.taskQueue }),
        ),
      );
      await Promise.all(handles.map((h) => h.result()));
    });
    onboardingRoutes = Object.keys((await tb.dt.stats()).requests).filter((r) => /^[A-Z]+ \/(api|e)\//.test(r));
    await aws.clients.s3.send(new CreateBucketCommand({ Bucket: aws.bucket }));
    await aws.clients.ssm.send(
      new PutParameterCommand({
        Name: aws.approvedTypesParameter,
        Type: 'StringList',
        Value: 't3.micro,t3.small,t3.medium',
      }),
    );
  });
  afterAll(async () => {
    await tb?.teardown();
    await aws?.stop();
  });

  it('every Dynatrace call the onboarding made is in the scope table', () => {
    // The workflow is the real one, so this catches a call added to it but not to SCOPE_REQUIREMENTS.
    const known = new Set(SCOPE_REQUIREMENTS.flatMap((r) => r.endpoints.map((e) => routeKey(`${e.method} ${e.path}`))));
    expect(onboardingRoutes.length).toBeGreaterThan(5);
    expect(onboardingRoutes.map(routeKey).filter((r) => !known.has(r))).toEqual([]);
  });

  it('all good after onboarding: every token of every environment has its scopes, exit 0', async () => {
    const { code, lines, text } = await doctor([], baseEnv());
    expect(code).toBe(0);
    expect(lines[0]).toBe(`Autopilot doctor: Dynatrace ${tb.dt.simulator.url}, secret store file`);
    expect(text).toContain('Cluster token (DT_CLUSTER_TOKEN)');
    expect(text).toMatch(/✓ cluster token dt0c01\.[A-Z0-9]{24}: ServiceProviderAPI, EnvironmentTokenManagement/);
    for (const id of [GOOD, BROKEN]) {
      const section = lines.slice(lines.indexOf(`Environment ${id}`) + 1, lines.indexOf(`Environment ${id}`) + 4);
      expect(section).toEqual([
        expect.stringMatching(
          /^ {2}✓ token-management token dt0c01\.\w+: apiTokens\.read, apiTokens\.write; short-lived, minted for this check and revoked after it$/,
        ),
        expect.stringMatching(/^ {2}✓ installer-download token dt0c01\.\w+: InstallerDownload; expires /),
        expect.stringMatching(
          new RegExp(`^ {2}✓ automation token dt0c01\\.\\w+: ${requiredScopes('automation').join(', ')}; expires `),
        ),
      ]);
    }
    expect(lines.at(-1)).toBe('All good.');
  });

  it('an environment token that lacks a scope: exit 1, the scope named with the feature that needs it', async () => {
    // The automation token replaced by one without problems.write, as an operator might have minted it.
    const tmt = await tb.dt.client
      .cluster(tb.dt.clusterToken)
      .createTokenManagementToken(BROKEN, { name: 'test setup', expiresInSeconds: 600 });
    const weaker = await tb.dt.client.environment(BROKEN, tmt).tokens.create({
      name: 'dynatrace-autopilot-automation',
      scopes: requiredScopes('automation').filter((s) => s !== 'problems.write'),
      expirationDate: new Date(Date.now() + 30 * 86_400_000),
    });
    await tb.deps.secrets.put(secretRefs.environmentToken(BROKEN, 'automation'), weaker.token, {
      tokenId: weaker.id,
    });

    const { code, lines, text } = await doctor([], baseEnv());
    expect(code).toBe(1);
    expect(lines).toContain(
      `  ✗ automation token ${weaker.id} lacks problems.write, needed for Self-healing: comment on problems`,
    );
    expect(lines.filter((l) => l.includes('✗'))).toHaveLength(1);
    // The other environment is still reported fine.
    expect(lines[lines.indexOf(`Environment ${GOOD}`) + 3]).toMatch(/^ {2}✓ automation token /);
    expect(lines.at(-1)).toBe('1 problem: docs/least-privilege.md lists the scopes and how to create the tokens.');
    expect(text).not.toContain('All good');

    const json = JSON.parse((await doctor(['--json', '--environment', BROKEN], baseEnv())).lines[0]!) as DoctorReport;
    expect(json.checks.find((c) => c.token === 'automation')).toMatchObject({
      status: 'failed',
      environmentId: BROKEN,
      tokenId: weaker.id,
      missingScopes: [{ scope: 'problems.write', features: ['Self-healing: comment on problems'] }],
    });
  });

  it('a cluster token without EnvironmentTokenManagement: exit 1, named with the feature; environments still checked', async () => {
    const token = await clusterToken('doctor-no-etm', ['ServiceProviderAPI']);
    const { code, lines } = await doctor(['--environment', GOOD], baseEnv({ DT_CLUSTER_TOKEN: token }));
    expect(code).toBe(1);
    expect(lines).toContain(
      `  ✗ cluster token ${token.split('.').slice(0, 2).join('.')} lacks EnvironmentTokenManagement, needed for Token lifecycle: short-lived token-management token`,
    );
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}✓ cluster token dt0c01\.\w+ has ServiceProviderAPI$/));
    expect(lines.filter((l) => l.includes('✗'))).toHaveLength(1);
    expect(lines).toContain(`Environment ${GOOD}`);
  });

  it('a cluster token without ServiceProviderAPI: environments are named with --environment instead of listed', async () => {
    const token = await clusterToken('doctor-no-spa', ['EnvironmentTokenManagement']);
    const listed = await doctor([], baseEnv({ DT_CLUSTER_TOKEN: token }));
    expect(listed.code).toBe(1);
    expect(listed.text).toContain(
      'lacks ServiceProviderAPI, needed for Onboarding: environment; Onboarding: user groups; autopilot doctor',
    );
    expect(listed.text).toMatch(/- environments: .*--environment/);
    expect(listed.text).not.toContain(`Environment ${GOOD}`);

    const named = await doctor(['--environment', GOOD], baseEnv({ DT_CLUSTER_TOKEN: token }));
    expect(
      named.lines.filter(
        (l) => l.startsWith(`  ✓ `) && /(token-management|installer-download|automation) token/.test(l),
      ),
    ).toHaveLength(3);
  });

  it('a cluster token Dynatrace does not know: exit 1 with the 401, nothing else asked of the cluster', async () => {
    const { code, text } = await doctor(
      [],
      baseEnv({ DT_CLUSTER_TOKEN: `dt0c01.${'A'.repeat(24)}.${'B'.repeat(64)}` }),
    );
    expect(code).toBe(1);
    expect(text).toMatch(/✗ cluster token dt0c01\.A{24}: Dynatrace answered 401 .*invalid, expired or revoked/);
  });

  it('--json: one parseable report with the cluster, the store, counts and one entry per check', async () => {
    const { code, lines } = await doctor(['--json', '--environment', GOOD], baseEnv());
    expect(code).toBe(0);
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!) as DoctorReport;
    expect(report).toEqual({
      ok: true,
      cluster: { url: tb.dt.simulator.url, sandbox: false, tokenSource: 'DT_CLUSTER_TOKEN' },
      secretStore: 'file',
      failures: 0,
      warnings: 0,
      checks: [
        {
          area: 'cluster',
          subject: 'cluster token',
          token: 'cluster',
          tokenId: expect.stringMatching(/^dt0c01\.[A-Z0-9]{24}$/),
          status: 'ok',
          detail: 'ServiceProviderAPI, EnvironmentTokenManagement',
          grantedScopes: ['ServiceProviderAPI', 'EnvironmentTokenManagement'],
        },
        ...(['token-management', 'installer-download', 'automation'] as const).map((token): unknown =>
          expect.objectContaining({
            area: 'environment',
            token,
            environmentId: GOOD,
            status: 'ok',
            tokenId: expect.stringMatching(/^dt0c01\.[A-Z0-9]{24}$/),
            secretRef: token === 'token-management' ? 'none (short-lived)' : secretRefs.environmentToken(GOOD, token),
          }),
        ),
        {
          area: 'worker',
          subject: 'installer signatures',
          status: 'ok',
          detail: expect.stringMatching(
            new RegExp(
              `^verified against DT_INSTALLER_CA_FILE ${tb.dt.simulator.installerCaFile} \\(O=Dynatrace Autopilot sandbox, CN=Simulated OneAgent installer signing; valid until `,
            ),
          ),
        },
        {
          area: 'worker',
          subject: 'host executor',
          status: 'ok',
          detail: "ssh; an enrollment that names executor 'local' is refused",
        },
      ],
    });
  });

  it('installers outside the sandbox: refused without a CA (exit 1), shape-only and a local executor are warnings', async () => {
    const section = (lines: string[]) => lines.slice(lines.indexOf('Workers (installers and hosts)') + 1).slice(0, 2);
    const refused = await doctor(['--environment', GOOD], baseEnv({ DT_INSTALLER_CA_FILE: '' }));
    expect(refused.code).toBe(1);
    expect(section(refused.lines)).toEqual([
      expect.stringMatching(
        /^ {2}✗ installer signatures: no DT_INSTALLER_CA_FILE to verify OneAgent installer signatures against, so every installer is refused: .*AUTOPILOT_INSTALLER_SIGNATURE=shape-only$/,
      ),
      "  ✓ host executor: ssh; an enrollment that names executor 'local' is refused",
    ]);

    const accepted = await doctor(
      ['--environment', GOOD],
      baseEnv({
        DT_INSTALLER_CA_FILE: '',
        AUTOPILOT_INSTALLER_SIGNATURE: 'shape-only',
        AUTOPILOT_HOST_EXECUTOR: 'local',
      }),
    );
    expect(accepted.code).toBe(0);
    expect(section(accepted.lines)).toEqual([
      expect.stringMatching(
        /^ {2}! installer signatures: AUTOPILOT_INSTALLER_SIGNATURE=shape-only: OneAgent installers are not verified against a CA/,
      ),
      expect.stringMatching(
        /^ {2}! host executor: AUTOPILOT_HOST_EXECUTOR=local: this worker runs OneAgent installers on its own machine/,
      ),
    ]);
    expect(accepted.lines.at(-1)).toBe('All good (2 warnings).');

    const text = path.join(dataDir, 'not-a-certificate.pem');
    writeFileSync(text, 'not a certificate\n');
    const notACertificate = await doctor(['--environment', GOOD], baseEnv({ DT_INSTALLER_CA_FILE: text }));
    expect(notACertificate.code).toBe(1);
    expect(section(notACertificate.lines)[0]).toMatch(
      /^ {2}✗ installer signatures: Invalid configuration: DT_INSTALLER_CA_FILE holds no PEM certificate/,
    );
  });

  it('in the sandbox an installer is checked by its shape, and the local executor is the default: nothing to warn about', () => {
    const checks = checkWorkerSettings(loadConfig({}), { sandbox: true, now: Date.now() });
    expect(checks.map((c) => [c.subject, c.status])).toEqual([
      ['installer signatures', 'ok'],
      ['host executor', 'ok'],
    ]);
    expect(checks[1]!.detail).toMatch(/^local \(sandbox\)/);
  });

  it('usage errors are CliErrors (exit 2), before anything is asked', async () => {
    await expect(doctor(['--warn-days', 'soon'], baseEnv())).rejects.toThrow(CliError);
    await expect(doctor(['--environment', 'no/such'], baseEnv())).rejects.toThrow(CliError);
    await expect(doctor(['extra'], baseEnv())).rejects.toThrow(CliError);
  });

  it('AWS: the approved-types parameter and the template bucket are there', async () => {
    const { code, lines } = await doctor(
      ['--environment', GOOD],
      baseEnv({
        AWS_REGION: 'us-east-1',
        REMEDIATION_APPROVED_TYPES_PARAMETER: aws.approvedTypesParameter,
        REMEDIATION_TEMPLATE_BUCKET: aws.bucket,
      }),
      aws.clients,
    );
    expect(code).toBe(0);
    const at = lines.indexOf('AWS (us-east-1)');
    expect(lines.slice(at + 1, at + 3)).toEqual([
      `  ✓ approved instance types ${aws.approvedTypesParameter}: t3.micro, t3.small, t3.medium`,
      `  ✓ template bucket ${aws.bucket}: exists`,
    ]);
  });

  it('AWS: a parameter that does not exist fails with the variable that names it', async () => {
    const missing = `${aws.approvedTypesParameter}-missing`;
    const { code, lines } = await doctor(
      ['--environment', GOOD],
      baseEnv({
        AWS_REGION: 'us-east-1',
        REMEDIATION_APPROVED_TYPES_PARAMETER: missing,
        REMEDIATION_TEMPLATE_BUCKET: aws.bucket,
      }),
      aws.clients,
    );
    expect(code).toBe(1);
    expect(lines).toContain(
      `  ✗ approved instance types ${missing}: does not exist in SSM (us-east-1); REMEDIATION_APPROVED_TYPES_PARAMETER names it`,
    );
    expect(lines).toContain(`  ✓ template bucket ${aws.bucket}: exists`);
  });

  it('AWS: the installer bucket the workers share is checked when set, a missing one named by its variable', async () => {
    const env = (installerBucket: string) =>
      baseEnv({
        AWS_REGION: 'us-east-1',
        REMEDIATION_APPROVED_TYPES_PARAMETER: aws.approvedTypesParameter,
        REMEDIATION_TEMPLATE_BUCKET: aws.bucket,
        AUTOPILOT_INSTALLER_BUCKET: installerBucket,
      });
    const there = await doctor(['--environment', GOOD], env(aws.bucket), aws.clients);
    expect(there.code).toBe(0);
    expect(there.lines).toContain(`  ✓ installer bucket ${aws.bucket}: exists`);
    const missing = `${aws.bucket}-installers`;
    const gone = await doctor(['--environment', GOOD], env(missing), aws.clients);
    expect(gone.code).toBe(1);
    expect(gone.lines).toContain(
      `  ✗ installer bucket ${missing}: does not exist (us-east-1); AUTOPILOT_INSTALLER_BUCKET names it`,
    );
  });

  it('no token value ever appears in the output, only public token ids', () => {
    const { state } = tb.dt.simulator;
    const values = [
      ...[...state.clusterTokens.values()].map((t) => t.token),
      ...[...state.environments.values()].flatMap((e) => [...e.tokens.values()].map((t) => t.token)),
    ];
    expect(values.length).toBeGreaterThan(8);
    const output = printed.join('\n');
    expect(output).toContain('dt0c01.');
    for (const value of values) {
      expect(output).not.toContain(value);
      // The secret part alone is as bad as the whole token.
      expect(output).not.toContain(value.split('.')[2]);
    }
  });
});
