import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { lazySchema } from '../../src/shared/lazy-schema.js';

describe('lazySchema', () => {
  const definition = () =>
    z.object({
      name: z.string().regex(/^[a-z]+$/, { message: 'lower-case letters only' }),
      size: z.number().int().default(1),
    });

  it('builds its schema on first use only, once', () => {
    let builds = 0;
    const schema = lazySchema(() => {
      builds++;
      return definition();
    });
    expect(builds).toBe(0);
    expect(schema.parse({ name: 'abc' })).toEqual({ name: 'abc', size: 1 });
    expect(schema.safeParse({ name: 'ABC' }).success).toBe(false);
    expect(builds).toBe(1);
  });

  it('is used, nested, extended and described exactly like the schema it stands for', () => {
    const lazy = lazySchema(definition);
    const real = definition();
    expect(lazy).toBeInstanceOf(z.ZodObject);
    expect(Object.keys(lazy.shape)).toEqual(['name', 'size']);
    const nested = z.object({ items: z.array(lazy), first: lazy.optional() });
    expect(nested.parse({ items: [{ name: 'a' }], first: { name: 'b', size: 2 } })).toEqual({
      items: [{ name: 'a', size: 1 }],
      first: { name: 'b', size: 2 },
    });
    const failure = nested.safeParse({ items: [{ name: 'A' }] });
    expect(failure.error?.issues[0]).toMatchObject({ path: ['items', 0, 'name'], message: 'lower-case letters only' });
    expect(lazy.extend({ extra: z.boolean() }).parse({ name: 'a', extra: true })).toEqual({
      name: 'a',
      size: 1,
      extra: true,
    });
    expect(z.toJSONSchema(lazy)).toEqual(z.toJSONSchema(real));
    expect(z.toJSONSchema(nested)).toEqual(z.toJSONSchema(z.object({ items: z.array(real), first: real.optional() })));
  });

  it('lists no own keys and refuses to be frozen, so a deep freeze of the module holding it leaves the schema usable', () => {
    const lazy = lazySchema(definition);
    const exports = { schema: lazy };
    expect(Object.getOwnPropertyNames(lazy)).toEqual([]);
    expect(() => Object.freeze(lazy)).toThrow(TypeError);
    Object.freeze(exports);
    expect(Object.isFrozen(lazy)).toBe(false);
    expect(lazy.parse({ name: 'abc' })).toEqual({ name: 'abc', size: 1 });
    expect(lazy.optional().parse(undefined)).toBeUndefined();
  });
});
