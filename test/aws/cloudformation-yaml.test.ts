import { describe, expect, it } from 'vitest';
import { CloudFormationYamlError, parseCloudFormationYaml } from '../../src/aws/cloudformation-yaml.js';
import { thrownBy } from '../helpers/thrown.js';

const value = (text: string) => parseCloudFormationYaml(text).value;

const refusal = (text: string) => thrownBy(() => parseCloudFormationYaml(text), CloudFormationYamlError);

describe('CloudFormation YAML on the yaml library', () => {
  it('reads every short form as its long form', () => {
    expect(
      value(
        [
          'Ref: !Ref InstanceType',
          "Sub: !Sub 'arn:aws:s3:::${Bucket}/*'",
          'SubList: !Sub',
          "  - 'www.${Domain}'",
          '  - Domain: !Ref RootDomainName',
          'GetAtt: !GetAtt Role.Arn',
          'GetAttNested: !GetAtt Stack.Outputs.Name',
          'GetAttList: !GetAtt [Role, Arn]',
          "Join: !Join ['', ['arn:', !Ref 'AWS::Partition']]",
          "Select: !Select [0, !GetAZs '']",
          'GetAZsEmpty: !GetAZs',
          'FindInMap: !FindInMap [RegionMap, !Ref AWS::Region, AMI]',
          'If: !If [IsProd, m5.large, t3.micro]',
          'Not: !Not [!Condition IsProd]',
          'Transform: !Transform',
          '  Name: AWS::Include',
          'Tagged123: !Ref 123',
        ].join('\n'),
      ),
    ).toEqual({
      Ref: { Ref: 'InstanceType' },
      Sub: { 'Fn::Sub': 'arn:aws:s3:::${Bucket}/*' },
      SubList: { 'Fn::Sub': ['www.${Domain}', { Domain: { Ref: 'RootDomainName' } }] },
      GetAtt: { 'Fn::GetAtt': ['Role', 'Arn'] },
      GetAttNested: { 'Fn::GetAtt': ['Stack', 'Outputs.Name'] },
      GetAttList: { 'Fn::GetAtt': ['Role', 'Arn'] },
      Join: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }]] },
      Select: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] },
      GetAZsEmpty: { 'Fn::GetAZs': '' },
      FindInMap: { 'Fn::FindInMap': ['RegionMap', { Ref: 'AWS::Region' }, 'AMI'] },
      If: { 'Fn::If': ['IsProd', 'm5.large', 't3.micro'] },
      Not: { 'Fn::Not': [{ Condition: 'IsProd' }] },
      Transform: { 'Fn::Transform': { Name: 'AWS::Include' } },
      // A tagged scalar is not type-resolved: Ref names the string "123".
      Tagged123: { Ref: '123' },
    });
  });

  it('keeps numbers a JavaScript number cannot carry exactly as the string written, and quoted scalars as strings', () => {
    expect(value('- 012345678901\n- 123456789012345678901\n- .inf\n- 0\n- 00\n- 42\n- 1.5\n- "42"\n- yes\n')).toEqual([
      '012345678901',
      '123456789012345678901',
      '.inf',
      0,
      '00',
      42,
      1.5,
      '42',
      'yes',
    ]);
  });

  it('keeps mapping keys as written: account ids with a leading zero, version-like numbers', () => {
    const mappings = value('Accounts:\n  012345678901: {Env: prod}\n  1.10: {Env: dev}\n  true: {Env: x}\n');
    expect(mappings).toEqual({
      Accounts: { '012345678901': { Env: 'prod' }, '1.10': { Env: 'dev' }, true: { Env: 'x' } },
    });
    expect(Object.keys((mappings as { Accounts: object }).Accounts)).toEqual(['012345678901', '1.10', 'true']);
  });

  it('takes a byte order mark, Windows line endings and JSON', () => {
    expect(value('\uFEFFA: 1\r\nB:\r\n  - x\r\n')).toEqual({ A: 1, B: ['x'] });
    expect(value('{"a":1,"b":"c"}')).toEqual({ a: 1, b: 'c' });
    expect(Object.getPrototypeOf(value('__proto__:\n  polluted: true\n'))).toBe(Object.prototype);
  });

  it.each([
    ['A: 1\nA: 2\n', /duplicate mapping key/, 2],
    ['A:\n\tB: 1\n', /tab characters/, 2],
    ['A: 1\n---\nB: 2\n', /one YAML document/, 2],
    ['A: &anchor x\n', /anchors/, 1],
    ['A: x\nB: *alias\n', /aliases|alias/i, 2],
    ['A: !Foo bar\n', /unsupported tag !Foo/, 1],
    ['A: !!str 1\n', /unsupported tag !!str/, 1],
    ['UserData: !Base64 !Sub "x"\n', /two tags on one node.*Fn::Base64: !Sub/, 1],
    ['A: !GetAtt Role\n', /LogicalName\.AttributeName/, 1],
    ['A: [a, b\n', /./, 2],
    ["1: x\n'1': y\n", /duplicate mapping key/, 2],
    ['%YAML 1.1\n---\nA: yes\n', /directives/, 1],
    ['%TAG !e! tag:example.com,2000:\n---\nA: 1\n', /directives/, 1],
    ['A: 1\n&key B: 2\n', /anchors/, 2],
    ['A: !Ref!x y\n', /^unsupported tag !Ref!x:/, 1],
  ])('refuses %j with the reason and its line', (text, reason, line) => {
    const error = refusal(text);
    expect(error.reason).toMatch(reason);
    expect(error.line).toBe(line);
    expect(error.message).toContain(`line ${line}, column ${error.column}`);
  });
});
