import { describe, expect, it } from 'vitest';
import {
  globMatches,
  MAX_SELECTOR_LENGTH,
  MAX_SELECTOR_TERMS,
  parseEnvironmentSelector,
  SelectorError,
  selects,
} from '../../src/shared/environment-selector.js';
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

  it('matches globs like the glob syntax says, `*` any run and `?` one character', () => {
    const cases: [string, string, boolean][] = [
      ['*', '', true],
      ['*', 'abc', true],
      ['?', '', false],
      ['a*c', 'abbbc', true],
      ['a*c', 'abbbd', false],
      ['a?c', 'abc', true],
      ['a?c', 'ac', false],
      ['*-p*', 'abc-p1', true],
      ['*-p*', 'abc-t1', false],
      ['*a*b*c*', 'xaybzc', true],
      ['*a*b*c*', 'xaybz', false],
      ['a.b', 'aXb', false],
      ['**?', 'x', true],
      ['*?*?x', 'ax', false],
    ];
    for (const [glob, value, expected] of cases) expect(globMatches(glob, value), `${glob} ~ ${value}`).toBe(expected);
    // The same answers as the regular expression a glob stands for, on many short globs and values.
    const alphabet = ['a', 'b', '*', '?'];
    const random = (n: number, from: string[]) =>
      Array.from({ length: n }, () => from[Math.floor(Math.random() * from.length)]).join('');
    for (let i = 0; i < 2_000; i++) {
      const glob = random(1 + (i % 6), alphabet);
      const value = random(i % 8, ['a', 'b']);
      const regex = new RegExp(`^${glob.replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
      expect(globMatches(glob, value), `${glob} ~ ${value}`).toBe(regex.test(value));
    }
  });

  it('answers twelve `*?` and an x, as one glob and as twelve terms, over 5,000 environments in under a second', () => {
    const fleet = Array.from({ length: 5_000 }, (_, i) => env(`c${String(i).padStart(4, '0')}-p1-${'y'.repeat(40)}`));
    for (const text of [`${'*?'.repeat(12)}x`, Array.from({ length: 12 }, () => `${'*?'.repeat(12)}x`).join(' ')]) {
      const started = performance.now();
      const selector = parseEnvironmentSelector(text);
      const chosen = fleet.filter((e) => selects(selector, e));
      const elapsed = performance.now() - started;
      expect(chosen).toEqual([]);
      // The time bound is the point of this test (a backtracking matcher takes seconds per environment).
      expect(elapsed, text).toBeLessThan(1_000);
    }
  });

  it('refuses selectors longer than anyone types, or with more terms, before matching anything', () => {
    expect(
      thrownBy(() => parseEnvironmentSelector('a'.repeat(MAX_SELECTOR_LENGTH + 1)), SelectorError).message,
    ).toMatch(new RegExp(`at most ${MAX_SELECTOR_LENGTH} are allowed`));
    const terms = Array.from({ length: MAX_SELECTOR_TERMS + 1 }, (_, i) => `e${i}`).join(',');
    expect(thrownBy(() => parseEnvironmentSelector(terms), SelectorError).message).toMatch(
      new RegExp(`has ${MAX_SELECTOR_TERMS + 1} terms; at most ${MAX_SELECTOR_TERMS}`),
    );
    expect(
      parseEnvironmentSelector(Array.from({ length: MAX_SELECTOR_TERMS }, (_, i) => `e${i}`).join(',')).ids,
    ).toHaveLength(MAX_SELECTOR_TERMS);
  });
});
