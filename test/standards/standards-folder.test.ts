import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingsValueDifferences } from '../../src/dynatrace/settings-value-match.js';
import { SELF_HEALING_STANDARDS } from '../../src/standards/builtin-standards.js';
import { CompiledStandards, standardExternalId } from '../../src/standards/desired-objects.js';
import {
  formatProblem,
  InvalidStandardsError,
  loadStandards,
  standardsHash,
} from '../../src/standards/load-standards.js';
import { foreignSecrets } from '../../src/standards/standards-secrets.js';
import type { SettingsStandard } from '../../src/shared/standards.js';
import { planSettings } from '../../src/standards/plan-settings.js';
import { invalidStandardsSet } from '../../src/standards/validate-standards-set.js';

const folder = (files: Record<string, string>) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'standards-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
};

const problemsOf = (dir: string) => {
  try {
    loadStandards(dir);
  } catch (err) {
    if (err instanceof InvalidStandardsError) {
      return err.problems.map((p) => formatProblem(p).replaceAll(`${path.relative(process.cwd(), dir)}/`, ''));
    }
    throw err;
  }
  throw new Error('the folder was accepted');
};

const zone = `name: zone
kind: settings
schemaId: builtin:management-zones
value:
  name: 'Customer {{ environment.customer }}'
  rules:
    - type: SELECTOR
      entitySelector: 'type(HOST),tag("customer:{{ environment.customer }}")'
overrides:
  - environments: 'customer:abc'
    value:
      description: shared databases too
`;

describe('standards folders', () => {
  it('loads the example folder, whose self-healing standards are exactly the ones onboarding writes', () => {
    const set = loadStandards(path.join(import.meta.dirname, '../../examples/standards'));
    expect(set.standards.map((s) => s.name).sort()).toEqual([
      'customer-operators',
      'customer-zone',
      'host-unit-quota',
      'production-oncall-webhook',
      'production-paging-profile',
      'self-healing-alerting-profile',
      'self-healing-webhook',
      'stage-tag',
    ]);
    expect(set.prune).toBe(false);
    for (const builtin of SELF_HEALING_STANDARDS) {
      const declared = set.standards.find((s) => s.name === builtin.name)!;
      expect(declared).toMatchObject({ kind: 'settings', settings: builtin.settings, externalId: builtin.externalId });
    }
    expect(invalidStandardsSet(set)).toBeUndefined();
  });

  it('names file, line and field of every mistake, and accepts nothing while one is left', () => {
    const dir = folder({
      'good.yaml': zone,
      'typo.yaml': 'name: typo\nkind: settings\nschemaId: builtin:alerting.profile\nscheme: environment\nvalue: {}\n',
      'mode.yaml': 'name: moded\nkind: settings\nmode: enforced\nschemaId: builtin:alerting.profile\nvalue: {}\n',
      'nested/selector.yaml':
        "name: picky\nkind: user-group\nenvironments: 'colour:red'\ngroup:\n  name: ops\n  permissions: [VIEWER]\n",
      'placeholder.yaml':
        'name: holes\nkind: settings\nschemaId: builtin:alerting.profile\nvalue:\n  name: x\n  rules:\n    - name: "{{ environment.customr }}"\n',
      'ref.yaml':
        'name: refs\nkind: settings\nschemaId: builtin:problem.notifications\nvalue:\n  alertingProfile: \'{{ ref "nope" }}\'\n',
      'twice.yaml': zone,
      'broken.yaml': 'name: broken\nkind: settings\nvalue: [unclosed\n',
      'inline.yaml':
        "name: inline\nkind: settings\nschemaId: builtin:problem.notifications\nvalue:\n  webHookNotification:\n    headers:\n      - { name: Authorization, secret: true, secretValue: 'Bearer abc' }\n",
      'secret.yaml':
        'name: leaky\nkind: user-group\ngroup:\n  name: \'{{ secret "team/key" }}\'\n  permissions: [VIEWER]\n',
    });
    expect(problemsOf(dir).sort()).toEqual(
      [
        'broken.yaml:4: is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
        'inline.yaml:7: value.webHookNotification.headers[0].secretValue is a secret: give it by reference, {{ secret "name" }}, never inline',
        'mode.yaml:3: mode must be enforce or report',
        'nested/selector.yaml:3: environments is not a valid selector: unknown selector key in "colour:red": use id, customer, stage, cluster, kind, tag (or a bare glob)',
        'placeholder.yaml:7: value.rules[0].name unknown environment field "customr" in {{ environment.customr }}: use id, customer, stage, cluster, kind, tags',
        'ref.yaml:5: value.alertingProfile {{ ref "nope" }} names no settings standard of this folder',
        'secret.yaml:4: group.name may use {{ environment.<field> }} and {{ tag "…" }} only',
        'twice.yaml:1: name zone is already declared at good.yaml:1',
        'typo.yaml:4: scheme is not a field of a standard of this kind',
      ].sort(),
    );
  });

  it('a standard names only secrets stored for standards: any other reference is an error at its line', () => {
    const notification = (name: string, secret: string, where = 'value') =>
      `name: ${name}\nkind: settings\nschemaId: builtin:problem.notifications\n` +
      (where === 'value' ? '' : 'value: { enabled: true }\noverrides:\n  - environments: "*-p*"\n    ') +
      `value:\n${where === 'value' ? '  ' : '      '}webHookNotification:\n` +
      `${where === 'value' ? '    ' : '        '}headers:\n` +
      `${where === 'value' ? '      ' : '          '}- { name: Authorization, secret: true, secretValue: '{{ secret "${secret}" }}' }\n`;
    const rule =
      'names no secret stored for standards: standards may use standards/<name> ' +
      '(autopilot secrets set standards/<name> --file …) and autopilot/webhook-key only';
    const dir = folder({
      'token.yaml': notification('token', 'dynatrace/abc-p1/automation-token'),
      'ssh.yaml': notification('ssh', 'ssh/ops'),
      'override.yaml': notification('override', 'dynatrace/abc-p1/token-management', 'override'),
      'nested.yaml': notification('nested', 'standards/team/key'),
      'upper.yaml': notification('upper', 'standards/Key'),
      'marker.yaml':
        "name: marker\nkind: settings\nschemaId: builtin:problem.notifications\nvalue:\n  alertingProfile: { $secret: 'dynatrace/abc-p1/automation-token' }\n",
      'fine.yaml': notification('fine', 'standards/webhook-password'),
      'webhook.yaml': notification('webhook', 'autopilot/webhook-key'),
    });
    expect(problemsOf(dir).sort()).toEqual(
      [
        `token.yaml:7: value.webHookNotification.headers[0].secretValue {{ secret "dynatrace/abc-p1/automation-token" }} ${rule}`,
        `ssh.yaml:7: value.webHookNotification.headers[0].secretValue {{ secret "ssh/ops" }} ${rule}`,
        `override.yaml:10: overrides[0].value.webHookNotification.headers[0].secretValue {{ secret "dynatrace/abc-p1/token-management" }} ${rule}`,
        `nested.yaml:7: value.webHookNotification.headers[0].secretValue {{ secret "standards/team/key" }} ${rule}`,
        `upper.yaml:7: value.webHookNotification.headers[0].secretValue {{ secret "standards/Key" }} ${rule}`,
        'marker.yaml:5: value.alertingProfile.$secret is reserved: write {{ secret "…" }} or {{ ref "…" }} instead',
      ].sort(),
    );
    const accepted = loadStandards(folder({ 'fine.yaml': notification('fine', 'standards/webhook-password') }));
    expect(accepted.standards.map((s) => s.name)).toEqual(['fine']);

    // The same rule holds for a set that reaches a workflow without the loader.
    const smuggled = structuredClone(accepted);
    const header = (smuggled.standards[0] as SettingsStandard).settings.value as {
      webHookNotification: { headers: { secretValue: string }[] };
    };
    header.webHookNotification.headers[0]!.secretValue = '{{ secret "ssh/ops" }}';
    smuggled.hash = standardsHash(smuggled.standards, smuggled.prune);
    expect(invalidStandardsSet(smuggled)).toContain(
      `fine.yaml:1: value.webHookNotification.headers[0].secretValue {{ secret "ssh/ops" }} ${rule}`,
    );
    expect(foreignSecrets(smuggled.standards)).toEqual(['ssh/ops']);
    expect(foreignSecrets(accepted.standards)).toEqual([]);
  });

  it('a YAML alias bomb, an alias that contains itself or names no anchor is one line naming the file', () => {
    const laughs = ['value:', '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [prev, next] of ['ab', 'bc', 'cd', 'de', 'ef', 'fg', 'gh', 'hi']) {
      laughs.push(`  ${next}: &${next} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    // Each alias expands once, but the library looks each one up among all anchors and aliases: without
    // a limit on their number, these few hundred kilobytes would keep the loader busy for minutes.
    const many = Array.from({ length: 3000 }, (_, i) => `    - [&b${i} x, &a${i} [*b${i}], *a${i}]`);
    const dir = folder({
      'bomb.yaml': `name: bomb\nkind: settings\nschemaId: builtin:alerting.profile\n${laughs.join('\n')}\n`,
      'many.yaml': `name: many\nkind: settings\nschemaId: builtin:alerting.profile\nvalue:\n  rules:\n${many.join('\n')}\n`,
      'loops.yaml': [
        'name: loop\nkind: settings\nschemaId: builtin:alerting.profile\nvalue: &v\n  again: *v',
        'name: dangling\nkind: settings\nschemaId: builtin:alerting.profile\nvalue:\n  name: *nowhere',
        'name: shared\nkind: settings\nschemaId: builtin:alerting.profile\nvalue:\n  name: &n x\n  description: *n',
      ].join('\n---\n'),
      'autopilot-standards.yaml': `prune: &p false\nother: [${Array(101).fill('*p').join(',')}]\n`,
    });
    const limit = 'uses YAML aliases beyond the limit of 100 (an alias bomb?): write the repeated values out';
    expect(problemsOf(dir).sort()).toEqual(
      [
        `autopilot-standards.yaml:2: ${limit}`,
        `bomb.yaml:6: ${limit}`,
        `many.yaml:6: ${limit}`,
        'loops.yaml:5: the YAML alias *v sits inside the anchor it names',
        'loops.yaml:11: the YAML alias *nowhere names no anchor before it',
      ].sort(),
    );
  });

  it('a large folder with anchors in every standard is not affected: the limit holds per document', () => {
    const standards = Array.from({ length: 400 }, (_, i) =>
      [
        `name: zone-${i}`,
        'kind: settings',
        'schemaId: builtin:management-zones',
        'value:',
        `  name: &name 'Zone ${i} of {{ environment.customer }}'`,
        '  rules:',
        ...Array.from(
          { length: 40 },
          (_, r) => `    - { type: SELECTOR, entitySelector: 'type(HOST),tag("r${r}")', name: *name }`,
        ),
      ].join('\n'),
    );
    const set = loadStandards(folder({ 'zones.yaml': standards.join('\n---\n') }));
    expect(set.standards).toHaveLength(400);
    const last = set.standards.at(-1) as SettingsStandard;
    expect((last.settings.value.rules as { name: string }[]).at(-1)!.name).toBe(
      'Zone 399 of {{ environment.customer }}',
    );
  });

  it('hashes what the standards mean: the same content in other files and key order has the same hash', () => {
    const a = loadStandards(folder({ 'a.yaml': zone }));
    const reordered = zone.replace('name: zone\nkind: settings\n', 'kind: settings\nname: zone\n');
    const b = loadStandards(folder({ 'elsewhere/b.yml': `# moved\n${reordered}` }));
    expect(b.hash).toBe(a.hash);
    const c = loadStandards(folder({ 'a.yaml': zone.replace('shared databases', 'shared DBs') }));
    expect(c.hash).not.toBe(a.hash);
  });

  it('renders per environment: placeholders filled, overrides merged for their selector, a derived external id', () => {
    const set = loadStandards(folder({ 'zone.yaml': zone }));
    const compiled = new CompiledStandards(set);
    const environment = (id: string, customer: string) => ({
      id,
      customer,
      stage: 'p1',
      cluster: 'eu1',
      kind: 'managed' as const,
      tags: [],
    });
    const [abc] = compiled.desiredFor(environment('abc-p1', 'abc')).settings;
    const [xyz] = compiled.desiredFor(environment('xyz-p1', 'xyz')).settings;
    expect(abc!.value).toEqual({
      name: 'Customer abc',
      description: 'shared databases too',
      rules: [{ type: 'SELECTOR', entitySelector: 'type(HOST),tag("customer:abc")' }],
    });
    expect(xyz!.value).not.toHaveProperty('description');
    expect(abc!.externalId).toBe(standardExternalId('zone', 'environment'));
    expect(xyz!.externalId).toBe(abc!.externalId);
  });

  it('compares without noise: defaults the cluster added, sets in its order, line endings and trailing blanks', () => {
    const desired = {
      name: 'Customer abc',
      description: 'line one\nline two\n',
      rules: [
        { type: 'SELECTOR', entitySelector: 'type(HOST)' },
        { type: 'ME', attributeRule: { entityType: 'SERVICE', conditions: [{ key: 'K', operator: 'EXISTS' }] } },
      ],
      tags: [],
    };
    const stored = {
      name: 'Customer abc',
      description: 'line one  \r\nline two',
      rules: [
        {
          enabled: true,
          type: 'ME',
          attributeRule: {
            entityType: 'SERVICE',
            conditions: [{ key: 'K', operator: 'EXISTS', caseSensitive: true }],
            hostToPGPropagation: true,
          },
        },
        { enabled: true, type: 'SELECTOR', entitySelector: 'type(HOST)' },
      ],
    };
    expect(settingsValueDifferences('builtin:management-zones', stored, desired)).toEqual([]);
    // The same lists in order matter for a schema whose lists are not sets, unless the standard says so.
    expect(settingsValueDifferences('app:custom', stored, desired).map((d) => d.field)).toContain('rules[0].type');
    expect(settingsValueDifferences('app:custom', stored, desired, { unordered: ['rules'] })).toEqual([]);
    const changed = { ...stored, name: 'Customer ABC' };
    expect(settingsValueDifferences('builtin:management-zones', changed, desired)).toEqual([
      { field: 'name', old: 'Customer ABC', new: 'Customer abc' },
    ]);
  });

  it('plans create, update, unchanged and orphans of ours; objects of others are never ours', () => {
    const set = loadStandards(folder({ 'zone.yaml': zone }));
    const desired = new CompiledStandards(set).desiredFor({
      id: 'abc-p1',
      customer: 'abc',
      stage: 'p1',
      cluster: null,
      kind: 'managed',
      tags: [],
    }).settings;
    const externalId = desired[0]!.externalId;
    const object = (objectId: string, value: Record<string, unknown>, id?: string) => ({
      objectId,
      value,
      schemaId: 'builtin:management-zones',
      ...(id ? { externalId: id } : {}),
      created: 1,
    });
    const theirs = object('theirs', { name: 'Customer abc' });
    expect(planSettings(desired, [theirs], { prune: true }).map((p) => p.action)).toEqual(['create']);
    const right = object(
      'ours',
      { ...desired[0]!.value, rules: [{ enabled: true, ...(desired[0]!.value.rules as object[])[0] }] },
      externalId,
    );
    expect(planSettings(desired, [right, theirs], { prune: true }).map((p) => p.action)).toEqual(['unchanged']);
    const wrong = object('ours', { ...desired[0]!.value, description: 'edited in the UI' }, externalId);
    const [update] = planSettings(desired, [wrong], { prune: true });
    expect(update).toMatchObject({
      action: 'update',
      differences: [{ field: 'description', old: 'edited in the UI' }],
    });
    const leftOver = object('old', { name: 'gone' }, standardExternalId('retired', 'environment'));
    expect(planSettings(desired, [right, leftOver], { prune: false }).map((p) => [p.standard, p.action])).toEqual([
      ['zone', 'unchanged'],
      ['retired', 'orphan'],
    ]);
    expect(planSettings(desired, [right, leftOver], { prune: true }).at(-1)!.action).toBe('delete');
  });
});
