import { describe, expect, it } from 'vitest';
import {
  analyzeInstanceType,
  setInstanceType,
  TemplateEditError,
  type InstanceTypeSite,
  type TemplateEditReason,
} from '../../src/aws/instance-type-template.js';
import { parseCloudFormationYaml, type CfnValue } from '../../src/aws/cloudformation-yaml.js';
import { thrownBy } from '../helpers/thrown.js';

const parseCfnYaml = (source: string): CfnValue => parseCloudFormationYaml(source).value;

/** A template literal without its first line break, so the text starts at column 0 of line 1. */
const text = (strings: TemplateStringsArray, ...values: unknown[]) =>
  strings.reduce((out, s, i) => out + s + (i < values.length ? String(values[i]) : ''), '').replace(/^\n/, '');

/** The lines only in `before` and the lines only in `after` (a longest-common-subsequence diff). */
function lineDiff(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  const common: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      common[i]![j] = a[i] === b[j] ? common[i + 1]![j + 1]! + 1 : Math.max(common[i + 1]![j]!, common[i]![j + 1]!);
    }
  }
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < b.length && (i === a.length || common[i]![j + 1]! >= common[i + 1]![j]!)) {
      added.push(b[j++]!);
    } else {
      removed.push(a[i++]!);
    }
  }
  return { removed, added };
}

/** The value at a path of a parsed template (undefined when a step is missing). */
function valueAt(doc: CfnValue, ...path: string[]): CfnValue | undefined {
  let node: CfnValue | undefined = doc;
  for (const key of path) {
    node = node !== null && typeof node === 'object' && !Array.isArray(node) ? node[key] : undefined;
  }
  return node;
}

/** The parsed document with the values at some paths replaced. */
function expectedDoc(source: string, changes: [path: string[], value: CfnValue][]): CfnValue {
  const doc = structuredClone(parseCfnYaml(source));
  for (const [path, value] of changes) {
    const parent = valueAt(doc, ...path.slice(0, -1));
    if (parent === null || typeof parent !== 'object' || Array.isArray(parent)) throw new Error(`no ${path.join('.')}`);
    parent[path.at(-1)!] = value;
  }
  return doc;
}

const editError = (action: () => unknown) => thrownBy(action, TemplateEditError);

/** A Service Catalog product as a platform team publishes it: the size is a parameter, comments and tags abound. */
const WEB_SERVER_PRODUCT = text`
AWSTemplateFormatVersion: '2010-09-09'
Description: >-
  Web tier for the checkout service (t3.micro by default). Launched through
  AWS Service Catalog; Dynatrace Autopilot resizes it when CPU keeps saturating.

Metadata:
  AWS::CloudFormation::Interface:
    ParameterGroups:
      - Label: { default: Sizing }
        Parameters: [InstanceType]

Parameters:
  # Sizing is owned by the platform team; the approved list lives in SSM.
  InstanceType:
    Type: String
    Description: EC2 instance type (approved sizes start at t3.micro)
    Default: t3.micro   # smallest approved size
    AllowedValues:
      - t3.micro
    ConstraintDescription: must be an approved instance type
  LatestAmiId:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64
  Environment:
    Type: String
    Default: staging
    AllowedValues: [staging, production]

Conditions:
  IsProduction: !Equals [!Ref Environment, production]

Resources:
  WebServerSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Sub 'Web tier of \${AWS::StackName}'
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 443
          ToPort: 443
          CidrIp: 10.0.0.0/8

  WebServer:
    Type: AWS::EC2::Instance
    Properties:
      InstanceType: !Ref InstanceType
      ImageId: !Ref LatestAmiId
      SecurityGroupIds:
        - !GetAtt WebServerSecurityGroup.GroupId
      Monitoring: !If [IsProduction, true, false]
      UserData:
        Fn::Base64: !Sub |
          #!/bin/bash
          echo "sized as t3.micro at launch" > /etc/motd
      Tags:
        - Key: Name
          Value: !Sub '\${AWS::StackName}-web'
        - Key: OriginalSize
          Value: t3.micro

Outputs:
  InstanceId:
    Description: The web server (t3.micro unless resized)
    Value: !Ref WebServer
  PrivateIp:
    Value: !GetAtt WebServer.PrivateIp
`;

describe('analyzeInstanceType', () => {
  it('finds a Ref to a parameter as the parameter Default of a YAML product template', () => {
    expect(analyzeInstanceType(WEB_SERVER_PRODUCT)).toEqual({
      format: 'yaml',
      sites: [
        {
          path: ['Parameters', 'InstanceType', 'Default'],
          kind: 'parameter-default',
          value: 't3.micro',
          resource: 'WebServer',
          parameter: 'InstanceType',
        },
      ],
      currentType: 't3.micro',
    });
  });

  it('finds literals on an instance, a launch template and a launch configuration (JSON)', () => {
    const template = JSON.stringify({
      Resources: {
        Template: {
          Type: 'AWS::EC2::LaunchTemplate',
          Properties: { LaunchTemplateData: { InstanceType: 'm5.large', ImageId: 'ami-1' } },
        },
        Bastion: { Type: 'AWS::EC2::Instance', Properties: { InstanceType: 'm5.large', ImageId: 'ami-1' } },
        Legacy: { Type: 'AWS::AutoScaling::LaunchConfiguration', Properties: { InstanceType: 'm5.large' } },
        Logs: { Type: 'AWS::S3::Bucket', Properties: { Tags: [{ Key: 'size', Value: 'm5.large' }] } },
      },
    });
    expect(analyzeInstanceType(template)).toEqual({
      format: 'json',
      sites: [
        {
          path: ['Resources', 'Template', 'Properties', 'LaunchTemplateData', 'InstanceType'],
          kind: 'literal',
          value: 'm5.large',
          resource: 'Template',
        },
        {
          path: ['Resources', 'Bastion', 'Properties', 'InstanceType'],
          kind: 'literal',
          value: 'm5.large',
          resource: 'Bastion',
        },
        {
          path: ['Resources', 'Legacy', 'Properties', 'InstanceType'],
          kind: 'literal',
          value: 'm5.large',
          resource: 'Legacy',
        },
      ],
      currentType: 'm5.large',
    });
  });

  it('lists a parameter once per resource that refers to it', () => {
    const template = text`
Parameters:
  Size: {Type: String, Default: c6i.xlarge}
Resources:
  Blue: {Type: AWS::EC2::Instance, Properties: {InstanceType: !Ref Size}}
  Green: {Type: AWS::EC2::Instance, Properties: {InstanceType: !Ref Size}}
`;
    const { sites, currentType } = analyzeInstanceType(template);
    expect(sites.map((site) => [site.resource, site.parameter, site.path.join('.')])).toEqual([
      ['Blue', 'Size', 'Parameters.Size.Default'],
      ['Green', 'Size', 'Parameters.Size.Default'],
    ]);
    expect(currentType).toBe('c6i.xlarge');
  });

  it('reports disagreeing sites as ambiguous, listing them', () => {
    const template = text`
Resources:
  Template:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        InstanceType: t3.micro
  Bastion:
    Type: AWS::EC2::Instance
    Properties:
      InstanceType: t3.nano
`;
    const error = editError(() => analyzeInstanceType(template));
    expect(error.reason).toBe('ambiguous');
    expect(error.message).toContain('Resources.Template.Properties.LaunchTemplateData.InstanceType = t3.micro');
    expect(error.message).toContain('Resources.Bastion.Properties.InstanceType = t3.nano');
    expect(error.sites.map((site) => site.value)).toEqual(['t3.micro', 't3.nano']);
    expect(editError(() => setInstanceType(template, 't3.micro', 't3.small')).reason).toBe('ambiguous');
  });

  const unsupportedCases: [string, string, string][] = [
    [
      'a mapping lookup',
      text`
Mappings:
  Sizes: {staging: {Type: t3.micro}}
Resources:
  WebServer:
    Type: AWS::EC2::Instance
    Properties:
      InstanceType: !FindInMap [Sizes, staging, Type]
`,
      'Resources.WebServer (AWS::EC2::Instance): Properties.InstanceType is Fn::FindInMap',
    ],
    [
      'a condition',
      text`
Conditions:
  Big: !Equals [!Ref 'AWS::Region', us-east-1]
Resources:
  WebServer:
    Type: AWS::EC2::Instance
    Properties:
      InstanceType: !If [Big, m5.large, t3.micro]
`,
      'Resources.WebServer (AWS::EC2::Instance): Properties.InstanceType is Fn::If',
    ],
    [
      'a parameter without a Default',
      text`
Parameters:
  InstanceType:
    Type: String
    AllowedValues: [t3.micro, t3.small]
Resources:
  WebServer:
    Type: AWS::EC2::Instance
    Properties:
      InstanceType: !Ref InstanceType
`,
      'Resources.WebServer (AWS::EC2::Instance): InstanceType refers to the parameter InstanceType, which has no Default',
    ],
    [
      'a pseudo parameter',
      text`
Resources:
  WebServer:
    Type: AWS::EC2::Instance
    Properties:
      InstanceType: !Ref AWS::NoValue
`,
      'Resources.WebServer (AWS::EC2::Instance): InstanceType refers to the pseudo parameter AWS::NoValue',
    ],
    [
      'a Ref to something that is not a parameter',
      text`
Resources:
  Sizing: {Type: AWS::SSM::Parameter, Properties: {Type: String, Value: t3.micro}}
  WebServer:
    Type: AWS::EC2::Instance
    Properties:
      InstanceType: !Ref Sizing
`,
      'Resources.WebServer (AWS::EC2::Instance): InstanceType refers to Sizing, which is not a template parameter',
    ],
    [
      'an SSM-backed parameter (its Default is a parameter name, not a type)',
      text`
Parameters:
  InstanceType:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /platform/web/instance-type
Resources:
  WebServer:
    Type: AWS::EC2::Instance
    Properties:
      InstanceType: !Ref InstanceType
`,
      'InstanceType refers to the parameter InstanceType of type AWS::SSM::Parameter::Value<String>',
    ],
    [
      'launch template data chosen by a condition',
      text`
Conditions:
  Big: !Equals [!Ref 'AWS::Region', us-east-1]
Resources:
  WebTemplate:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData: !If [Big, {InstanceType: m5.large}, {InstanceType: t3.micro}]
`,
      'Resources.WebTemplate (AWS::EC2::LaunchTemplate): Properties.LaunchTemplateData is Fn::If',
    ],
    [
      'a number',
      '{"Resources": {"WebServer": {"Type": "AWS::EC2::Instance", "Properties": {"InstanceType": 42}}}}',
      'Resources.WebServer (AWS::EC2::Instance): Properties.InstanceType is 42 (number)',
    ],
    [
      'instance types set by mixed-instances overrides',
      text`
Resources:
  WebTemplate:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData: {InstanceType: t3.micro}
  WebGroup:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      MinSize: '1'
      MaxSize: '3'
      MixedInstancesPolicy:
        LaunchTemplate:
          LaunchTemplateSpecification:
            LaunchTemplateId: !Ref WebTemplate
            Version: !GetAtt WebTemplate.LatestVersionNumber
          Overrides:
            - InstanceType: t3.micro
            - InstanceType: t3a.micro
`,
      'Resources.WebGroup (AWS::AutoScaling::AutoScalingGroup): MixedInstancesPolicy overrides set the instance types',
    ],
  ];
  it.each(unsupportedCases)('refuses %s as unsupported, naming the resource', (_what, template, message) => {
    const error = editError(() => analyzeInstanceType(template));
    expect(error.reason).toBe('unsupported');
    expect(error.message).toContain(message);
    expect(editError(() => setInstanceType(template, 't3.micro', 't3.small')).reason).toBe('unsupported');
  });

  it.each([
    ['a template without Resources', 'Parameters:\n  InstanceType: {Type: String, Default: t3.micro}\n'],
    ['no resource that launches instances', 'Resources:\n  Logs:\n    Type: AWS::S3::Bucket\n'],
    [
      'a launch template sized by InstanceRequirements',
      text`
Resources:
  WebTemplate:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        InstanceRequirements:
          VCpuCount: {Min: 2, Max: 4}
          MemoryMiB: {Min: 4096}
`,
    ],
  ])('reports no-instance-type for %s', (_what, template) => {
    expect(editError(() => analyzeInstanceType(template)).reason).toBe('no-instance-type');
  });

  it.each([
    ['broken JSON', '{"Resources": {"WebServer": {"Type": "AWS::EC2::Instance",'],
    ['broken YAML', 'Resources:\n  WebServer:\n    Type: [AWS::EC2::Instance\n'],
    ['tab indentation', 'Resources:\n\tWebServer: {}\n'],
    ['an unknown tag', 'Resources:\n  WebServer: !Custom x\n'],
    ['a list instead of a mapping', '- Resources\n- Parameters\n'],
    ['an empty document', ''],
  ])('reports %s as unparseable', (_what, template) => {
    const error = editError(() => analyzeInstanceType(template));
    expect(error.reason).toBe('unparseable');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('TemplateEditError');
  });

  it('names the JSON error when the text looks like JSON', () => {
    expect(
      editError(() => analyzeInstanceType('{"Resources": {"Web": {"Type": "AWS::EC2::Instance",')).message,
    ).toMatch(/^the template is neither .*\(JSON: /);
  });
});

describe('setInstanceType: YAML is edited in place', () => {
  it('changes the parameter Default and extends a block AllowedValues; every other line stays byte for byte', () => {
    const result = setInstanceType(WEB_SERVER_PRODUCT, 't3.micro', 't3.small');
    expect(result.format).toBe('yaml');
    expect(lineDiff(WEB_SERVER_PRODUCT, result.text)).toEqual({
      removed: ['    Default: t3.micro   # smallest approved size'],
      added: ['    Default: t3.small   # smallest approved size', '      - t3.small'],
    });
    const lines = result.text.split('\n');
    const at = lines.indexOf('    Default: t3.small   # smallest approved size');
    expect(lines.slice(at, at + 5)).toEqual([
      '    Default: t3.small   # smallest approved size',
      '    AllowedValues:',
      '      - t3.micro',
      '      - t3.small',
      '    ConstraintDescription: must be an approved instance type',
    ]);
    expect(parseCfnYaml(result.text)).toEqual(
      expectedDoc(WEB_SERVER_PRODUCT, [
        [['Parameters', 'InstanceType', 'Default'], 't3.small'],
        [
          ['Parameters', 'InstanceType', 'AllowedValues'],
          ['t3.micro', 't3.small'],
        ],
      ]),
    );
    expect(result.changed).toEqual<InstanceTypeSite[]>([
      {
        path: ['Parameters', 'InstanceType', 'Default'],
        kind: 'parameter-default',
        value: 't3.small',
        resource: 'WebServer',
        parameter: 'InstanceType',
      },
    ]);
    // The look-alikes: descriptions, user data, a tag, an output description.
    expect(result.text.match(/t3\.micro/g)).toHaveLength(WEB_SERVER_PRODUCT.match(/t3\.micro/g)!.length - 1);
    expect(analyzeInstanceType(result.text).currentType).toBe('t3.small');
  });

  it('extends a flow AllowedValues list in flow style, quoted like its items', () => {
    const template = text`
Parameters:
  InstanceType:
    Type: String
    Default: "t3.micro"
    AllowedValues: ['t3.micro', 't3.small'] # kept in sync with SSM
Resources:
  WebServer:
    Type: AWS::EC2::Instance
    Properties:
      InstanceType: !Ref InstanceType
`;
    const result = setInstanceType(template, 't3.micro', 't3.medium');
    expect(lineDiff(template, result.text)).toEqual({
      removed: ['    Default: "t3.micro"', "    AllowedValues: ['t3.micro', 't3.small'] # kept in sync with SSM"],
      added: [
        '    Default: "t3.medium"',
        "    AllowedValues: ['t3.micro', 't3.small', 't3.medium'] # kept in sync with SSM",
      ],
    });
  });

  it('extends a flow list that spans lines, and a one-item flow list', () => {
    const template = text`
Parameters:
  WebType:
    Type: String
    Default: t3.micro
    AllowedValues: [
      t3.micro,
      t3.small
    ]
  WorkerType:
    Type: String
    Default: t3.micro
    AllowedValues: [t3.micro]
Resources:
  Web: {Type: AWS::EC2::Instance, Properties: {InstanceType: !Ref WebType}}
  Worker: {Type: AWS::EC2::Instance, Properties: {InstanceType: !Ref WorkerType}}
`;
    const result = setInstanceType(template, 't3.micro', 't3.large');
    expect(lineDiff(template, result.text)).toEqual({
      removed: ['    Default: t3.micro', '      t3.small', '    Default: t3.micro', '    AllowedValues: [t3.micro]'],
      added: [
        '    Default: t3.large',
        '      t3.small,',
        '      t3.large',
        '    Default: t3.large',
        '    AllowedValues: [t3.micro, t3.large]',
      ],
    });
  });

  it('extends a compact block list written at its key indentation, with quoted items and a comment', () => {
    const template = text`
Parameters:
    InstanceType:
        Type: String
        Default: 't3.micro'
        AllowedValues:
        - 't3.nano'
        - 't3.micro'   # current size
        Description: Size
Resources:
    WebServer:
        Type: AWS::EC2::Instance
        Properties:
            InstanceType:
                Ref: InstanceType
`;
    const result = setInstanceType(template, 't3.micro', 't3.small');
    expect(lineDiff(template, result.text)).toEqual({
      removed: ["        Default: 't3.micro'"],
      added: ["        Default: 't3.small'", "        - 't3.small'"],
    });
    expect(result.text).toContain(
      "        - 't3.micro'   # current size\n        - 't3.small'\n        Description: Size\n",
    );
  });

  it('leaves AllowedValues alone when it already lists the new type, and adds none when there is none', () => {
    const listed = text`
Parameters:
  InstanceType:
    Type: String
    Default: t3.micro
    AllowedValues:
      - t3.micro
      - t3.small
Resources:
  WebServer:
    Type: AWS::EC2::Instance
    Properties:
      InstanceType: !Ref InstanceType
`;
    expect(lineDiff(listed, setInstanceType(listed, 't3.micro', 't3.small').text)).toEqual({
      removed: ['    Default: t3.micro'],
      added: ['    Default: t3.small'],
    });
    const unconstrained =
      'Parameters:\n  Size:\n    Type: String\n    Default: t3.micro\nResources:\n  Web:\n    Type: AWS::EC2::Instance\n    Properties:\n      InstanceType: !Ref Size\n';
    expect(setInstanceType(unconstrained, 't3.micro', 't3.small').text).toBe(
      unconstrained.replace('Default: t3.micro', 'Default: t3.small'),
    );
  });

  it('rewrites quoted literals with inline comments in an instance, a launch template and a launch configuration', () => {
    const template = text`
Resources:
  WebTemplate:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateName: !Sub '\${AWS::StackName}-web'
      LaunchTemplateData:
        ImageId: ami-0abcdef1234567890
        InstanceType: "m5.large"    # resized by Dynatrace Autopilot
        TagSpecifications:
          - ResourceType: instance
            Tags: [{Key: Size, Value: m5.large}]
  Bastion:
    Type: AWS::EC2::Instance
    Properties:
      InstanceType: 'm5.large' # same size as the web tier
      LaunchTemplate:
        LaunchTemplateId: !Ref WebTemplate
        Version: !GetAtt WebTemplate.LatestVersionNumber
  LegacyConfig:
    Type: AWS::AutoScaling::LaunchConfiguration
    Properties:
      ImageId: ami-0abcdef1234567890
      InstanceType: m5.large#not-a-comment
`;
    // "m5.large#not-a-comment" is one plain scalar: this template is ambiguous, so take that line out first.
    expect(editError(() => setInstanceType(template, 'm5.large', 'm5.xlarge')).reason).toBe('ambiguous');
    const agreeing = template.replace('m5.large#not-a-comment', 'm5.large  # legacy');
    const result = setInstanceType(agreeing, 'm5.large', 'm5.xlarge');
    expect(lineDiff(agreeing, result.text)).toEqual({
      removed: [
        '        InstanceType: "m5.large"    # resized by Dynatrace Autopilot',
        "      InstanceType: 'm5.large' # same size as the web tier",
        '      InstanceType: m5.large  # legacy',
      ],
      added: [
        '        InstanceType: "m5.xlarge"    # resized by Dynatrace Autopilot',
        "      InstanceType: 'm5.xlarge' # same size as the web tier",
        '      InstanceType: m5.xlarge  # legacy',
      ],
    });
    expect(result.changed.map((site) => [site.resource, site.kind, site.value])).toEqual([
      ['WebTemplate', 'literal', 'm5.xlarge'],
      ['Bastion', 'literal', 'm5.xlarge'],
      ['LegacyConfig', 'literal', 'm5.xlarge'],
    ]);
  });

  it('launch template with a Ref: changes the parameter, not a look-alike in a description block or another parameter', () => {
    const template = text`
Parameters:
  # Listed first on purpose: same default, but it only names the build agent in a tag.
  BuildAgentType:
    Type: String
    Default: t3.micro
  InstanceType:
    Description: |
      Default: t3.micro
      Allowed: t3.micro, t3.small
    Type: String
    Default: t3.micro
    AllowedValues: [t3.micro]
Resources:
  WebTemplate:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        InstanceType: !Ref InstanceType
        TagSpecifications:
          - ResourceType: instance
            Tags:
              - Key: BuildAgent
                Value: !Ref BuildAgentType
`;
    const result = setInstanceType(template, 't3.micro', 't3.small');
    expect(lineDiff(template, result.text)).toEqual({
      removed: ['    Default: t3.micro', '    AllowedValues: [t3.micro]'],
      added: ['    Default: t3.small', '    AllowedValues: [t3.micro, t3.small]'],
    });
    const parsed = parseCfnYaml(result.text);
    expect(valueAt(parsed, 'Parameters', 'BuildAgentType', 'Default')).toBe('t3.micro');
    expect(valueAt(parsed, 'Parameters', 'InstanceType', 'Description')).toBe(
      'Default: t3.micro\nAllowed: t3.micro, t3.small\n',
    );
    expect(valueAt(parsed, 'Parameters', 'InstanceType', 'Default')).toBe('t3.small');
    expect(parsed).toEqual(
      expectedDoc(template, [
        [['Parameters', 'InstanceType', 'Default'], 't3.small'],
        [
          ['Parameters', 'InstanceType', 'AllowedValues'],
          ['t3.micro', 't3.small'],
        ],
      ]),
    );
  });

  it('edits a parameter shared by two resources once and reports both resources', () => {
    const template = text`
Parameters:
  Size: {Type: String, Default: c6i.large, AllowedValues: [c6i.large]}
Resources:
  Blue: {Type: AWS::EC2::Instance, Properties: {InstanceType: !Ref Size}}
  Green: {Type: AWS::EC2::Instance, Properties: {InstanceType: !Ref Size}}
`;
    const result = setInstanceType(template, 'c6i.large', 'c6i.xlarge');
    expect(result.text).toBe(
      template.replace(
        '{Type: String, Default: c6i.large, AllowedValues: [c6i.large]}',
        '{Type: String, Default: c6i.xlarge, AllowedValues: [c6i.large, c6i.xlarge]}',
      ),
    );
    expect(result.changed.map((site) => site.resource)).toEqual(['Blue', 'Green']);
  });

  it('keeps Windows line endings, also on the added list entry', () => {
    const template = WEB_SERVER_PRODUCT.replaceAll('\n', '\r\n');
    const result = setInstanceType(template, 't3.micro', 't3.small');
    expect(result.text.replaceAll('\r\n', '')).not.toContain('\n');
    expect(result.text).toBe(setInstanceType(WEB_SERVER_PRODUCT, 't3.micro', 't3.small').text.replaceAll('\n', '\r\n'));
  });

  it('appends the list entry even when it is the last line of a file without a final newline', () => {
    const template =
      'Resources:\n  Web:\n    Type: AWS::EC2::Instance\n    Properties:\n      InstanceType: !Ref T\nParameters:\n  T:\n    Type: String\n    Default: t3.micro\n    AllowedValues:\n      - t3.micro';
    expect(setInstanceType(template, 't3.micro', 't3.small').text).toBe(
      template.replace('Default: t3.micro', 'Default: t3.small') + '\n      - t3.small',
    );
  });
});

describe('setInstanceType: JSON', () => {
  const product = {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'Checkout web tier (t3.micro by default)',
    Parameters: {
      InstanceType: {
        Type: 'String',
        Default: 't3.micro',
        AllowedValues: ['t3.micro'],
        Description: 'EC2 instance type',
      },
      LatestAmiId: {
        Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
        Default: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
      },
    },
    Resources: {
      WebServer: {
        Type: 'AWS::EC2::Instance',
        Properties: {
          InstanceType: { Ref: 'InstanceType' },
          ImageId: { Ref: 'LatestAmiId' },
          Tags: [
            { Key: 'Name', Value: { 'Fn::Sub': '${AWS::StackName}-web' } },
            { Key: 'OriginalSize', Value: 't3.micro' },
          ],
        },
      },
    },
    Outputs: { InstanceId: { Value: { Ref: 'WebServer' } } },
  };
  const resized = structuredClone(product);
  resized.Parameters.InstanceType.Default = 't3.small';
  resized.Parameters.InstanceType.AllowedValues = ['t3.micro', 't3.small'];

  it.each([
    ['2 spaces', 2, '\n'],
    ['4 spaces', 4, '\n'],
    ['tabs', '\t', '\n'],
    ['2 spaces, no final newline', 2, ''],
    ['minified', undefined, ''],
  ] as const)('keeps the layout: %s', (_layout, indent, trailing) => {
    const template = JSON.stringify(product, null, indent) + trailing;
    const result = setInstanceType(template, 't3.micro', 't3.small');
    expect(result.format).toBe('json');
    expect(result.text).toBe(JSON.stringify(resized, null, indent) + trailing);
    expect(result.text.match(/t3\.micro/g)).toHaveLength(3); // description, allowed values, tag
  });

  it('keeps a hand-written layout: one-line arrays, key order with numeric keys, number spelling', () => {
    const template = `{
  "Mappings": {"AzCount": {"3": {"Subnets": 3}, "2": {"Subnets": 2.0}}},
  "Parameters": {
    "InstanceType": {"Type": "String", "Default": "t3.micro", "AllowedValues": ["t3.nano", "t3.micro"]}
  },
  "Resources": {
    "WebServer": {"Type": "AWS::EC2::Instance", "Properties": {"InstanceType": {"Ref": "InstanceType"}}}
  }
}
`;
    const result = setInstanceType(template, 't3.micro', 't3.small');
    expect(result.text).toBe(
      template.replace(
        '"Default": "t3.micro", "AllowedValues": ["t3.nano", "t3.micro"]',
        '"Default": "t3.small", "AllowedValues": ["t3.nano", "t3.micro", "t3.small"]',
      ),
    );
  });

  it('rewrites literal sites in a JSON launch template and instance, not the description mentioning the type', () => {
    const template = JSON.stringify(
      {
        Description: 'Sized m5.large',
        Resources: {
          WebTemplate: {
            Type: 'AWS::EC2::LaunchTemplate',
            Properties: { LaunchTemplateData: { InstanceType: 'm5.large', ImageId: 'ami-1' } },
          },
          Bastion: { Type: 'AWS::EC2::Instance', Properties: { InstanceType: 'm5.large' } },
        },
      },
      null,
      4,
    );
    const result = setInstanceType(template, 'm5.large', 'm5.xlarge');
    expect(lineDiff(template, result.text)).toEqual({
      removed: ['                    "InstanceType": "m5.large",', '                "InstanceType": "m5.large"'],
      added: ['                    "InstanceType": "m5.xlarge",', '                "InstanceType": "m5.xlarge"'],
    });
    expect(result.text).toContain('"Description": "Sized m5.large"');
  });

  it('writes the document back in the detected layout when a value is spelled with escapes', () => {
    const template =
      JSON.stringify(product, null, 4).replace('"Default": "t3.micro"', '"Default": "t3\\u002emicro"') + '\n';
    expect(JSON.parse(template)).toEqual(product);
    expect(setInstanceType(template, 't3.micro', 't3.small').text).toBe(JSON.stringify(resized, null, 4) + '\n');
    const tabs = template.replace(/^( {4})+/gm, (spaces) => '\t'.repeat(spaces.length / 4));
    expect(setInstanceType(tabs, 't3.micro', 't3.small').text).toBe(JSON.stringify(resized, null, '\t') + '\n');
  });

  it('refuses to rewrite the whole document when that would reorder numeric keys', () => {
    const template =
      '{"Mappings": {"AzCount": {"3": {"N": 3}, "2": {"N": 2}}}, "Resources": {"Web": {"Type": "AWS::EC2::Instance", "Properties": {"InstanceType": "t3\\u002emicro"}}}}';
    expect(analyzeInstanceType(template).currentType).toBe('t3.micro');
    const error = editError(() => setInstanceType(template, 't3.micro', 't3.small'));
    expect(error.reason).toBe('unsupported');
  });
});

describe('setInstanceType: refusals', () => {
  it('refuses with mismatch when the template does not launch the expected type', () => {
    const error = editError(() => setInstanceType(WEB_SERVER_PRODUCT, 't3.small', 't3.medium'));
    expect(error.reason).toBe<TemplateEditReason>('mismatch');
    expect(error.message).toBe('the template launches t3.micro, not t3.small; refusing to change it to t3.medium');
    expect(error.sites.map((site) => site.value)).toEqual(['t3.micro']);
  });

  it('returns the template untouched when the type already is the target', () => {
    expect(setInstanceType(WEB_SERVER_PRODUCT, 't3.micro', 't3.micro')).toEqual({
      text: WEB_SERVER_PRODUCT,
      format: 'yaml',
      changed: [],
    });
  });

  it.each(['', 't3 small', '1.5', 'T3.SMALL', 't3.small\n      - x', "t3.small'"])(
    'throws TypeError for the target type %j',
    (to) => {
      expect(() => setInstanceType(WEB_SERVER_PRODUCT, 't3.micro', to)).toThrow(TypeError);
    },
  );

  it('refuses a target type the parameter AllowedPattern rejects', () => {
    const template = text`
Parameters:
  InstanceType:
    Type: String
    Default: t3.micro
    AllowedPattern: 't3\\..*'
Resources:
  WebServer: {Type: AWS::EC2::Instance, Properties: {InstanceType: !Ref InstanceType}}
`;
    expect(setInstanceType(template, 't3.micro', 't3.small').text).toContain('Default: t3.small');
    const error = editError(() => setInstanceType(template, 't3.micro', 'm5.large'));
    expect(error.reason).toBe('unsupported');
    expect(error.message).toContain('AllowedPattern');
  });

  it('refuses a YAML text it cannot locate the value in rather than guessing', () => {
    // An escaped double-quoted scalar: the value is not written literally anywhere.
    const template =
      'Resources:\n  Web:\n    Type: AWS::EC2::Instance\n    Properties:\n      InstanceType: "t3\\x2emicro"\n';
    expect(analyzeInstanceType(template).currentType).toBe('t3.micro');
    const error = editError(() => setInstanceType(template, 't3.micro', 't3.small'));
    expect(error.reason).toBe('unsupported');
    expect(error.message).toContain('Resources.Web.Properties.InstanceType');
  });
});

describe('setInstanceType: launch templates as platform teams write them', () => {
  const LAUNCH_TEMPLATE = text`
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  InstanceType:
    Type: String
    Default: t3.micro # sized by Dynatrace Autopilot
    AllowedValues:
      - t3.micro # the smallest approved size
  DbPassword:
    Type: String
    NoEcho: true
    Default: '{{resolve:ssm-secure:/shop/db/password:3}}'
Resources:
  WebTemplate:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateName: !Sub '\${AWS::StackName}-web'
      LaunchTemplateData:
        InstanceType: !Ref InstanceType
        ImageId: '{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64}}'
        UserData:
          Fn::Base64: !Sub |
            #!/bin/bash -xe
            # t3.micro is what this host starts as
            echo "stack \${AWS::StackName} in \${AWS::Region}" > /etc/motd
            /opt/aws/bin/cfn-signal -e $? --stack \${AWS::StackName} --resource WebGroup
  WebGroup:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      MinSize: '1'
      MaxSize: '3'
      LaunchTemplate:
        LaunchTemplateId: !Ref WebTemplate
        Version: !GetAtt WebTemplate.LatestVersionNumber
`;

  it('keeps !Sub block scalars, {{resolve:…}} values and comments byte for byte; only the value and the new allowed value change', () => {
    const result = setInstanceType(LAUNCH_TEMPLATE, 't3.micro', 't3.small');
    const expected = LAUNCH_TEMPLATE.replace(
      '    Default: t3.micro # sized by Dynatrace Autopilot\n',
      '    Default: t3.small # sized by Dynatrace Autopilot\n',
    ).replace(
      '      - t3.micro # the smallest approved size\n',
      '      - t3.micro # the smallest approved size\n      - t3.small\n',
    );
    expect(result.text).toBe(expected);
    expect(result.changed).toEqual([
      {
        path: ['Parameters', 'InstanceType', 'Default'],
        kind: 'parameter-default',
        value: 't3.small',
        resource: 'WebTemplate',
        parameter: 'InstanceType',
      },
    ]);
    const parsed = parseCfnYaml(result.text);
    expect(valueAt(parsed, 'Parameters', 'DbPassword', 'Default')).toBe('{{resolve:ssm-secure:/shop/db/password:3}}');
    expect(
      valueAt(parsed, 'Resources', 'WebTemplate', 'Properties', 'LaunchTemplateData', 'UserData', 'Fn::Base64'),
    ).toEqual({
      'Fn::Sub':
        '#!/bin/bash -xe\n# t3.micro is what this host starts as\necho "stack ${AWS::StackName} in ${AWS::Region}" > /etc/motd\n/opt/aws/bin/cfn-signal -e $? --stack ${AWS::StackName} --resource WebGroup\n',
    });
  });

  it('rewrites a literal type on a commented line, quoted, and leaves the rest alone', () => {
    const template = text`
Resources:
  WebTemplate:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        InstanceType: "m5.large"   # m5.large until CPU says otherwise
        ImageId: '{{resolve:ssm:/golden/ami}}'
`;
    const result = setInstanceType(template, 'm5.large', 'm5.xlarge');
    expect(result.text).toBe(template.replace('InstanceType: "m5.large"   #', 'InstanceType: "m5.xlarge"   #'));
  });
});

describe('setInstanceType: comments, mappings and lists it edits around', () => {
  const sized = (allowedValues: string) => text`
Mappings:
  Accounts:
    012345678901: {Env: prod}
Parameters:
  InstanceType:
    Type: String
    Default: t3.micro # current size
${allowedValues}Resources:
  Web:
    Type: AWS::EC2::Instance
    Properties:
      InstanceType: !Ref InstanceType
      ImageId: '{{resolve:ssm:/golden/ami}}'
`;

  it('keeps comments on the AllowedValues key and its items, and a comment line after the list', () => {
    const before = sized('    AllowedValues: # approved sizes\n      - t3.micro # smallest\n      # next: t3.large\n');
    const after = sized(
      '    AllowedValues: # approved sizes\n      - t3.micro # smallest\n      - t3.small\n      # next: t3.large\n',
    ).replace('Default: t3.micro # current size', 'Default: t3.small # current size');
    expect(setInstanceType(before, 't3.micro', 't3.small').text).toBe(after);
    expect(valueAt(parseCfnYaml(after), 'Mappings', 'Accounts', '012345678901', 'Env')).toBe('prod');
  });

  it('keeps the padding of a flow list and its comment', () => {
    const before = sized('    AllowedValues: [ t3.micro ] # approved\n');
    const after = sized('    AllowedValues: [ t3.micro, t3.small ] # approved\n').replace(
      'Default: t3.micro #',
      'Default: t3.small #',
    );
    expect(setInstanceType(before, 't3.micro', 't3.small').text).toBe(after);
  });

  it('refuses, naming the list, when its last item is a block scalar', () => {
    const error = editError(() =>
      setInstanceType(sized('    AllowedValues:\n      - >-\n        t3.micro\n'), 't3.micro', 't3.small'),
    );
    expect(error.reason).toBe('unsupported');
    expect(error.message).toContain('Parameters.InstanceType.AllowedValues is a block scalar');
  });
});
