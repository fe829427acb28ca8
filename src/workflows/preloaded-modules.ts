/**
 * Modules loaded once per workflow thread (the bundle's `preloadModules`, see
 * src/workers/workflow-bundle.ts) rather than once per workflow: zod, here, and the workflows' own
 * modules (the workflows' index, listed after this file).
 *
 * The SDK loads each workflow its own copy of every module it imports after start-up. zod alone
 * built its ~180 schema classes, locales and tables again for every HostEnrollment, and our modules'
 * functions, signal definitions and activity proxies cost a cached HostEnrollment about 0.3 MiB more.
 * Shared, they exist once per thread. So no module of the bundle may keep per-workflow state: the SDK
 * freezes what is loaded here, and what it cannot reach (closures, Maps) would be shared by every
 * workflow of the thread. They keep none: constants, definitions and functions of their arguments.
 *
 * zod's own state is its global configuration (locale, memoizer), set by its first schema, which is
 * why one is built and used here, before the freeze. Our schemas are built on first use
 * (shared/lazy-schema.ts) behind stand-ins the freeze passes over, because zod changes a schema as it
 * is used.
 */
import { z } from 'zod';

z.object({
  settled: z
    .string()
    .regex(/^settled$/)
    .optional(),
}).safeParse({ settled: 'settled' });
