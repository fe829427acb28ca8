import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, projectRoot } from '../../src/config/config.js';

interface Statement {
  Sid: string;
  Effect: string;
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string>>;
}

const policy = JSON.parse(readFileSync(path.join(projectRoot, 'deploy/aws/iam-policy.json'), 'utf8')) as {
  Version: string;
  Statement: Statement[];
};

/** IAM's prefix for each SDK client package (`@aws-sdk/client-<name>`). */
const IAM_PREFIX: Record<string, string> = {
  ec2: 'ec2',
  s3: 's3',
  ssm: 'ssm',
  'service-catalog': 'servicecatalog',
};

/** Operations IAM authorizes under another action name, or under more than one. */
const IAM_ACTIONS_OF: Record<string, string[]> = {
  's3:HeadBucket': ['s3:ListBucket'],
  // fetchTemplate passes the versionId of a template URL that has one, and IAM checks that separately.
  's3:GetObject': ['s3:GetObject', 's3:GetObjectVersion'],
};

/**
 * Actions no SDK command of ours names but AWS checks against our role while serving one: SSM encrypts
 * and decrypts SecureString parameters with AUTOPILOT_SSM_KMS_KEY_ID as the caller.
 */
const ON_OUR_BEHALF = ['kms:Encrypt', 'kms:Decrypt'];

/** Actions without resource-level permissions: IAM accepts them only on "*". */
const RESOURCE_STAR_ONLY = ['ec2:DescribeInstances', 'servicecatalog:DescribeProvisionedProduct'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/**
 * Every `new XxxCommand(` in src, as `prefix:Xxx` with the file that sends it. The sandbox is left
 * out: it seeds moto and its own emulator, never a real account.
 */
function sentOperations(): Map<string, string[]> {
  const sent = new Map<string, string[]>();
  const src = path.join(projectRoot, 'src');
  for (const file of sourceFiles(src)) {
    const relative = path.relative(projectRoot, file);
    if (relative.startsWith(path.join('src', 'sandbox') + path.sep)) continue;
    const text = readFileSync(file, 'utf8');
    const moduleOf = new Map<string, string>();
    for (const [, names, client] of text.matchAll(
      /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([a-z0-9-]+)'/g,
    )) {
      for (const spec of names!.split(',')) {
        const [imported, local] = spec
          .replace(/^\s*type\s+/, '')
          .split(/\s+as\s+/)
          .map((s) => s.trim());
        if (imported) moduleOf.set(local ?? imported, client!);
      }
    }
    for (const [, command] of text.matchAll(/new\s+([A-Z]\w*Command)\s*\(/g)) {
      const client = moduleOf.get(command!);
      if (!client) continue; // not an AWS SDK command
      const prefix = IAM_PREFIX[client];
      if (!prefix)
        throw new Error(`${relative} sends ${command} of @aws-sdk/client-${client}: add its IAM prefix here`);
      const operation = `${prefix}:${command!.slice(0, -'Command'.length)}`;
      sent.set(operation, [...(sent.get(operation) ?? []), relative]);
    }
  }
  return sent;
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

describe('deploy/aws/iam-policy.json', () => {
  const sent = sentOperations();
  const required = sorted([...sent.keys()].flatMap((op) => IAM_ACTIONS_OF[op] ?? [op]).concat(ON_OUR_BEHALF));
  const allowed = sorted(policy.Statement.flatMap((s) => s.Action));

  it('the scan sees the calls it is meant to see', () => {
    // A scanner that finds nothing would make the next test pass on an empty policy.
    expect(sent.get('servicecatalog:CreateProvisioningArtifact')).toEqual([
      'src/activities/remediation/roll-artifact.ts',
    ]);
    expect(sent.get('ssm:PutParameter')).toEqual(['src/secrets/ssm-secret-store.ts']);
    expect(sent.get('s3:HeadBucket')).toEqual(['src/cli/doctor-checks.ts']);
  });

  it('allows exactly the actions the code sends: a new AWS call fails here until the policy has it', () => {
    expect({
      missing: required.filter((a) => !allowed.includes(a)),
      unused: allowed.filter((a) => !required.includes(a)),
    }).toEqual({
      missing: [],
      unused: [],
    });
  });

  it('grants, never denies, each action by name, and "*" only where IAM has no resource-level permissions', () => {
    expect(policy.Version).toBe('2012-10-17');
    for (const statement of policy.Statement) {
      expect(statement.Effect, statement.Sid).toBe('Allow');
      for (const action of statement.Action) expect(action, statement.Sid).toMatch(/^[a-z0-9]+:[A-Z][A-Za-z]+$/);
      if (statement.Resource.includes('*')) {
        expect(statement.Resource, statement.Sid).toEqual(['*']);
        expect(RESOURCE_STAR_ONLY, statement.Sid).toEqual(expect.arrayContaining(statement.Action));
      }
    }
    expect(new Set(policy.Statement.map((s) => s.Sid)).size).toBe(policy.Statement.length);
  });

  it('names the SSM parameters and the upload prefix the code uses by default', () => {
    const defaults = loadConfig({});
    const resourcesOf = (sid: string) => policy.Statement.find((s) => s.Sid === sid)!.Resource;
    expect(resourcesOf('ReadApprovedInstanceTypes')).toEqual([
      `arn:aws:ssm:<REGION>:<ACCOUNT_ID>:parameter${defaults.remediation.approvedTypesParameter}`,
    ]);
    expect(resourcesOf('SecretStoreParameters')).toEqual([
      `arn:aws:ssm:<REGION>:<ACCOUNT_ID>:parameter${defaults.secrets.ssmPrefix}/*`,
    ]);
    const rollArtifact = readFileSync(path.join(projectRoot, 'src/activities/remediation/roll-artifact.ts'), 'utf8');
    const uploadPrefix = /const key = `([^$`]*)\$\{/.exec(rollArtifact)?.[1];
    expect(uploadPrefix).toBe('dynatrace-autopilot/');
    expect(resourcesOf('UploadEditedTemplates')).toEqual([`arn:aws:s3:::<TEMPLATE_BUCKET>/${uploadPrefix}*`]);
    expect(resourcesOf('ReadTemplates')).toContain(`arn:aws:s3:::<TEMPLATE_BUCKET>/${uploadPrefix}*`);
    expect(resourcesOf('CheckTemplateBucket')).toEqual(['arn:aws:s3:::<TEMPLATE_BUCKET>']);
    expect(resourcesOf('InstallerStore')).toEqual([`arn:aws:s3:::<INSTALLER_BUCKET>/${defaults.installerPrefix}*`]);
    expect(resourcesOf('InstallerStoreMissingObjects')).toEqual(['arn:aws:s3:::<INSTALLER_BUCKET>']);
  });

  it('lets the role use the secret-store KMS key only through SSM', () => {
    const kms = policy.Statement.filter((s) => s.Action.some((a) => a.startsWith('kms:')));
    expect(kms).toHaveLength(1);
    expect(kms[0]!.Condition).toEqual({ StringEquals: { 'kms:ViaService': 'ssm.<REGION>.amazonaws.com' } });
  });
});
