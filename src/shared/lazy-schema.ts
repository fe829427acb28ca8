import type { z } from 'zod';

/**
 * A schema built the first time it is used, not when its module loads.
 *
 * The workflow sandbox loads every module once per workflow: each HostEnrollment built all ~580 of
 * the schemas the workflows share (1.4 MiB of heap each, with 400 hosts in flight more than half a
 * gigabyte), though it validates with a handful. Built on first use, a workflow pays only for the
 * schemas it reads. Outside workflows it changes nothing but the moment of construction.
 *
 * The stand-in forwards what using a schema takes to the schema, so it can be used, nested and
 * extended as the schema itself; methods run on the schema, not on the stand-in. It lists no own
 * keys and refuses to be frozen: the workflow sandbox deep-freezes the modules it shares between
 * workflows (workflows/preloaded-modules.ts), and a frozen zod schema breaks when it is next used.
 */
export function lazySchema<T extends z.ZodType>(build: () => T): T {
  let schema: T | undefined;
  const real = (): T => (schema ??= build());
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(real(), key, real()),
    set: (_, key, value) => Reflect.set(real(), key, value, real()),
    has: (_, key) => Reflect.has(real(), key),
    ownKeys: () => [],
    preventExtensions: () => false,
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
      // The stand-in's own target is empty and extensible: a proxy may report a property only as configurable.
      return descriptor ? { ...descriptor, configurable: true } : undefined;
    },
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(real(), key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(real(), key),
  });
}
