import { describe, expect, it } from 'vitest';
import { CfnYamlError, parseCfnYaml } from '../../sandbox/aws/cfn-yaml.js';

const yaml = (lines: TemplateStringsArray, ...values: unknown[]) =>
  String.raw({ raw: lines }, ...values)
    .replace(/^\n/, '')
    .replace(/\n[ ]*$/, '\n');

function parseError(text: string): CfnYamlError {
  try {
    parseCfnYaml(text);
  } catch (error) {
    if (error instanceof CfnYamlError) return error;
    throw error;
  }
  throw new Error(`expected a CfnYamlError for:\n${text}`);
}

describe('parseCfnYaml: structure', () => {
  it('parses nested block mappings and sequences, including compact sequences and mappings inside items', () => {
    expect(
      parseCfnYaml(yaml`
Resources:
  Web:
    Type: AWS::EC2::Instance
    Properties:
      Tags:
      - Key: Name
        Value: web
      - Key: Team
        Value: platform
      SecurityGroups:
        - sg-1
        -   sg-2
      Nested:
        - - a
          - b
        -
          c
`),
    ).toEqual({
      Resources: {
        Web: {
          Type: 'AWS::EC2::Instance',
          Properties: {
            Tags: [
              { Key: 'Name', Value: 'web' },
              { Key: 'Team', Value: 'platform' },
            ],
            SecurityGroups: ['sg-1', 'sg-2'],
            Nested: [['a', 'b'], 'c'],
          },
        },
      },
    });
  });

  it('keeps key order and treats empty values as null', () => {
    const parsed = parseCfnYaml('b: 1\na:\nc: ~\n') as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['b', 'a', 'c']);
    expect(parsed).toEqual({ b: 1, a: null, c: null });
  });

  it('ignores comments, blank lines, a leading --- and a trailing ...', () => {
    expect(
      parseCfnYaml(yaml`
# leading comment

---
# another
A: 1 # trailing comment

   # indented comment
B: "x # not a comment" # but this is
C: value#not-a-comment
...
# after the end
`),
    ).toEqual({ A: 1, B: 'x # not a comment', C: 'value#not-a-comment' });
  });

  it('returns null for an empty document and handles CRLF line endings and a BOM', () => {
    expect(parseCfnYaml('')).toBeNull();
    expect(parseCfnYaml('# only a comment\n')).toBeNull();
    expect(parseCfnYaml('\uFEFFA: 1\r\nB:\r\n  - x\r\n')).toEqual({ A: 1, B: ['x'] });
  });

  it('parses flow sequences and mappings, nested and across lines, so JSON documents parse too', () => {
    expect(parseCfnYaml('A: [a, "b", \'c\', [1, 2], {k: v}, ]\nB: {x: 1, y: [true], z}\nC: []\nD: {}\n')).toEqual({
      A: ['a', 'b', 'c', [1, 2], { k: 'v' }],
      B: { x: 1, y: [true], z: null },
      C: [],
      D: {},
    });
    const json = { Resources: { R: { Type: 'AWS::S3::Bucket', Properties: { Tags: [{ Key: 'a', Value: 'b' }] } } } };
    expect(parseCfnYaml(JSON.stringify(json, null, 2))).toEqual(json);
    expect(parseCfnYaml('{"a":1,"b":"c"}')).toEqual({ a: 1, b: 'c' });
    expect(
      parseCfnYaml(yaml`
List: [
  one,   # first
  two
    continued,
  three
]
`),
    ).toEqual({ List: ['one', 'two continued', 'three'] });
  });

  it('accepts keys that contain colons, spaces and quotes', () => {
    expect(parseCfnYaml('Fn::If: x\n"quoted key": 1\n\'single: key\': 2\nhas space: 3\narn:aws:x: 4\n')).toEqual({
      'Fn::If': 'x',
      'quoted key': 1,
      'single: key': 2,
      'has space': 3,
      'arn:aws:x': 4,
    });
  });

  it('stores a "__proto__" key as a plain property', () => {
    const parsed = parseCfnYaml('__proto__:\n  polluted: true\n') as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseCfnYaml: scalars', () => {
  it('resolves plain scalars by the YAML 1.2 core schema', () => {
    expect(
      parseCfnYaml(yaml`
- true
- False
- null
- ~
- 42
- -7
- +3
- 0o17
- 0x1F
- 1.5
- .5
- 1e3
- -2.5E-1
- yes
- on
- 2010-09-09
- t3.micro
- 1.2.3
`),
    ).toEqual([
      true,
      false,
      null,
      null,
      42,
      -7,
      3,
      15,
      31,
      1.5,
      0.5,
      1000,
      -0.25,
      'yes',
      'on',
      '2010-09-09',
      't3.micro',
      '1.2.3',
    ]);
  });

  it('keeps values a number cannot carry exactly as strings', () => {
    expect(parseCfnYaml('- 012345678901\n- 123456789012345678901\n- .inf\n- .nan\n- 0\n- 00\n')).toEqual([
      '012345678901',
      '123456789012345678901',
      '.inf',
      '.nan',
      0,
      '00',
    ]);
  });

  it('never resolves quoted scalars', () => {
    expect(parseCfnYaml('- "true"\n- \'42\'\n- "null"\n- ""\n')).toEqual(['true', '42', 'null', '']);
  });

  it('folds multi-line plain scalars', () => {
    expect(
      parseCfnYaml(yaml`
Description: This is a long
  description that wraps

  and has a paragraph
Next: x
`),
    ).toEqual({ Description: 'This is a long description that wraps\nand has a paragraph', Next: 'x' });
  });

  it('decodes single-quoted scalars', () => {
    expect(parseCfnYaml("A: 'it''s # here'\nB: 'two\n  lines\n\n  and more'\n")).toEqual({
      A: "it's # here",
      B: 'two lines\nand more',
    });
  });

  it('decodes double-quoted escapes, folding and escaped line breaks', () => {
    expect(
      parseCfnYaml(
        String.raw`A: "tab\there\nnew \"quoted\" \\ \/ \x41\u00e9\U0001F600 \_"
B: "folded
   line  "
C: "joined\
   without space"
`,
      ),
    ).toEqual({
      A: 'tab\there\nnew "quoted" \\ / A\u00e9\u{1F600} \u00a0',
      B: 'folded line  ',
      C: 'joinedwithout space',
    });
  });

  it('parses literal block scalars with every chomping indicator', () => {
    const text = yaml`
clip: |
  line 1
    indented
  line 3

strip: |-
  text

keep: |+
  text


explicit: |2
    starts indented
last: x
`;
    expect(parseCfnYaml(text)).toEqual({
      clip: 'line 1\n  indented\nline 3\n',
      strip: 'text',
      keep: 'text\n\n\n',
      explicit: '  starts indented\n',
      last: 'x',
    });
  });

  it('parses folded block scalars, keeping breaks around more-indented lines and blank lines', () => {
    expect(
      parseCfnYaml(yaml`
folded: >
  one
  two

  three
    code
  four
stripped: >-
  a
  b
`),
    ).toEqual({ folded: 'one two\nthree\n  code\nfour\n', stripped: 'a b' });
  });

  it('keeps comment-like lines inside block scalars as text', () => {
    expect(parseCfnYaml('script: |\n  #!/bin/bash\n  echo hi # not a comment\n# real comment\nnext: 1\n')).toEqual({
      script: '#!/bin/bash\necho hi # not a comment\n',
      next: 1,
    });
  });

  it('parses block scalars inside sequences and at the end of the file without a final newline', () => {
    expect(parseCfnYaml('- |\n  a\n  b\n- >-\n  c\n  d')).toEqual(['a\nb\n', 'c d']);
  });
});

describe('parseCfnYaml: CloudFormation short-form tags', () => {
  it('turns every short form into its long form', () => {
    const text = yaml`
Ref: !Ref InstanceType
Sub: !Sub 'arn:aws:s3:::\${Bucket}/*'
SubList: !Sub
  - 'www.\${Domain}'
  - Domain: !Ref RootDomainName
GetAtt: !GetAtt Role.Arn
GetAttNested: !GetAtt Stack.Outputs.Name
GetAttList: !GetAtt [Role, Arn]
Join: !Join ['', ['arn:', !Ref 'AWS::Partition']]
Select: !Select [0, !GetAZs '']
GetAZsEmpty: !GetAZs
Split: !Split [',', 'a,b']
FindInMap: !FindInMap [RegionMap, !Ref 'AWS::Region', AMI]
Base64: !Base64 text
ImportValue: !ImportValue SharedVpc
Cidr: !Cidr [10.0.0.0/16, 4, 8]
If: !If [IsProd, m5.large, t3.micro]
Equals: !Equals [!Ref Env, prod]
Not: !Not [!Condition IsProd]
And: !And [!Condition A, !Condition B]
Or: !Or [!Condition A, !Condition B]
Transform: !Transform
  Name: AWS::Include
  Parameters:
    Location: s3://bucket/snippet.yaml
Tagged123: !Ref 123
`;
    expect(parseCfnYaml(text)).toEqual({
      Ref: { Ref: 'InstanceType' },
      Sub: { 'Fn::Sub': 'arn:aws:s3:::${Bucket}/*' },
      SubList: { 'Fn::Sub': ['www.${Domain}', { Domain: { Ref: 'RootDomainName' } }] },
      GetAtt: { 'Fn::GetAtt': ['Role', 'Arn'] },
      GetAttNested: { 'Fn::GetAtt': ['Stack', 'Outputs.Name'] },
      GetAttList: { 'Fn::GetAtt': ['Role', 'Arn'] },
      Join: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }]] },
      Select: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] },
      GetAZsEmpty: { 'Fn::GetAZs': '' },
      Split: { 'Fn::Split': [',', 'a,b'] },
      FindInMap: { 'Fn::FindInMap': ['RegionMap', { Ref: 'AWS::Region' }, 'AMI'] },
      Base64: { 'Fn::Base64': 'text' },
      ImportValue: { 'Fn::ImportValue': 'SharedVpc' },
      Cidr: { 'Fn::Cidr': ['10.0.0.0/16', 4, 8] },
      If: { 'Fn::If': ['IsProd', 'm5.large', 't3.micro'] },
      Equals: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] },
      Not: { 'Fn::Not': [{ Condition: 'IsProd' }] },
      And: { 'Fn::And': [{ Condition: 'A' }, { Condition: 'B' }] },
      Or: { 'Fn::Or': [{ Condition: 'A' }, { Condition: 'B' }] },
      Transform: {
        'Fn::Transform': { Name: 'AWS::Include', Parameters: { Location: 's3://bucket/snippet.yaml' } },
      },
      // A tagged scalar is not type-resolved: Ref names the string "123".
      Tagged123: { Ref: '123' },
    });
  });

  it('parses tags on block sequences and on block scalars, as in real templates', () => {
    const text = yaml`
Resources:
  Instance:
    Type: AWS::EC2::Instance
    Properties:
      InstanceType: !If
        - IsProd
        - !FindInMap [Sizes, prod, type]
        - !Ref InstanceType
      UserData:
        Fn::Base64: !Sub |
          #!/bin/bash -xe
          /opt/aws/bin/cfn-signal --stack \${AWS::StackName} --region \${AWS::Region}
      Tags:
        - Key: Name
          Value: !Join
          - '-'
          - - !Ref AWS::StackName
            - web
`;
    expect(parseCfnYaml(text)).toEqual({
      Resources: {
        Instance: {
          Type: 'AWS::EC2::Instance',
          Properties: {
            InstanceType: {
              'Fn::If': ['IsProd', { 'Fn::FindInMap': ['Sizes', 'prod', 'type'] }, { Ref: 'InstanceType' }],
            },
            UserData: {
              'Fn::Base64': {
                'Fn::Sub':
                  '#!/bin/bash -xe\n/opt/aws/bin/cfn-signal --stack ${AWS::StackName} --region ${AWS::Region}\n',
              },
            },
            Tags: [{ Key: 'Name', Value: { 'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, 'web']] } }],
          },
        },
      },
    });
  });

  it('refuses two tags on one node, as CloudFormation does, and names the long-form fix', () => {
    const error = parseError('UserData: !Base64 !Sub "x"\n');
    expect(error.reason).toMatch(/two tags/);
    expect(error.reason).toContain('Fn::Base64: !Sub');
    expect(error.line).toBe(1);
    expect(parseError('A: [!Base64 !Sub x]\n').reason).toMatch(/two tags/);
    expect(parseError('A: !Base64\n  !Sub x\n').reason).toMatch(/two tags/);
  });

  it('refuses tags that are not CloudFormation short forms', () => {
    expect(parseError('A: !Foo bar\n').reason).toMatch(/unsupported tag !Foo/);
    expect(parseError('A: !!str 1\n').reason).toMatch(/unsupported tag !!str/);
  });

  it('refuses a !GetAtt without an attribute', () => {
    expect(parseError('A: !GetAtt Role\n').reason).toMatch(/LogicalName\.AttributeName/);
  });
});

describe('parseCfnYaml: errors carry a line and column', () => {
  it.each([
    ['A: 1\nA: 2\n', /duplicate mapping key "A"/, 2],
    ['A: 1\n  B: 2\n', /mapping values are not allowed/, 2],
    ['A:\n  B: 1\n C: 2\n', /bad indentation of a mapping entry/, 3],
    ['A:\n  - a\n  B: 1\n', /bad indentation|found a sequence entry|mapping key/, 3],
    ['A: x: y\n', /mapping values are not allowed/, 1],
    ['A: "unterminated\n', /unterminated quoted scalar/, 1],
    ['A: [a, b\n', /unterminated flow sequence/, 1],
    ['A: {a: 1\n', /unterminated flow mapping/, 1],
    ['A: &anchor x\n', /anchors/, 1],
    ['A: *alias\n', /aliases/, 1],
    ['? complex\n: value\n', /explicit mapping keys/, 1],
    ['%YAML 1.2\n---\nA: 1\n', /directives/, 1],
    ['A: 1\n---\nB: 2\n', /one YAML document/, 2],
    ['A:\n\t- x\n', /tab characters/, 2],
    ['A: - x\n', /block sequence cannot start/, 1],
    ['A: "x" y\n', /unexpected content after a quoted scalar/, 1],
    ['A: "\\q"\n', /unknown escape/, 1],
    ['- a\nB: 1\n', /unexpected content after the end of the document/, 2],
    ['A: |x\n', /unexpected content after a block scalar header/, 1],
    ['A: [a: b]\n', /single-pair mappings/, 1],
  ])('%j', (text, reason, line) => {
    const error = parseError(text);
    expect(error).toBeInstanceOf(CfnYamlError);
    expect(error.reason).toMatch(reason);
    expect(error.line).toBe(line);
    expect(error.column).toBeGreaterThanOrEqual(1);
    expect(error.message).toContain(`line ${line}, column ${error.column}`);
  });
});
