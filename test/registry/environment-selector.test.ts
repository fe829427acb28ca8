import { describe, expect, it } from 'vitest';
import { parseEnvironmentSelector, SelectorError, selects } from '../../src/shared/environment-selector.js';
import { thrownBy } from '../helpers/thrown.js';

const env = (id: string, extra: Partial<{ cluster: string; kind: 'managed' | 'saas'; tags: string[] }> = {}) => {
  const [customer = null, stage = null] = id.split('-');
  return {
    id,
    customer,
    stage,
    cluster: extra.cluster ?? 'eu1',
    kind: extra.kind ?? ('managed' as const),
    tags: extra.tags ?? [],
  };
};

describe('environment selectors', () => {
  it('matches globs over ids, and keys over customer, stage, cluster and kind', () => {
    const all = [env('abc-p1'), env('abc-t1'), env('xyz-p2', { cluster: 'us1' }), env('saas9', { kind: 'saas' })];
    const pick = (text: string) => all.filter((e) => selects(parseEnvironmentSelector(text), e)).map((e) => e.id);
    expect(pick('*-p*')).toEqual(['abc-p1', 'xyz-p2']);
    expect(pick('abc-?1')).toEqual(['abc-p1', 'abc-t1']);
    expect(pick('cluster:us1')).toEqual(['xyz-p2']);
    expect(pick('kind:saas')).toEqual(['saas9']);
    expect(pick('customer:abc,customer:xyz stage:p*')).toEqual(['abc-p1', 'xyz-p2']);
    expect(pick('abc-p1 xyz-p2')).toEqual(['abc-p1', 'xyz-p2']);
  });

  it('matches tags, `key` or `key:value`, by glob; any matching tag will do', () => {
    const all = [env('abc-p1', { tags: ['tier:gold', 'eu'] }), env('abc-t1', { tags: ['tier:bronze'] }), env('xyz-p2')];
    const pick = (text: string) => all.filter((e) => selects(parseEnvironmentSelector(text), e)).map((e) => e.id);
    expect(pick('tag:tier:gold')).toEqual(['abc-p1']);
    expect(pick('tag:tier:*')).toEqual(['abc-p1', 'abc-t1']);
    expect(pick('tag:eu,tag:tier:bronze')).toEqual(['abc-p1', 'abc-t1']);
    expect(pick('*-p* tag:eu')).toEqual(['abc-p1']);
    expect(thrownBy(() => parseEnvironmentSelector('tag:<x>'), SelectorError).message).toMatch(/not a tag glob/);
  });

  it('refuses a malformed selector naming the term', () => {
    expect(thrownBy(() => parseEnvironmentSelector('  '), SelectorError).message).toMatch(/empty/);
    expect(thrownBy(() => parseEnvironmentSelector('owner:abc'), SelectorError).message).toMatch(
      /unknown selector key in "owner:abc"/,
    );
    expect(thrownBy(() => parseEnvironmentSelector('kind:cloud'), SelectorError).message).toMatch(
      /kind must be managed or saas/,
    );
    expect(thrownBy(() => parseEnvironmentSelector('abc/p1'), SelectorError).message).toMatch(
      /"abc\/p1" is not a glob/,
    );
  });
});
