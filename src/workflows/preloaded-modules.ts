/**
 * Modules loaded once per workflow thread (the bundle's `preloadModules`, see
 * src/workers/workflow-bundle.ts) rather than once per workflow.
 *
 * The SDK loads each workflow its own copy of every module it imports after start-up. zod alone
 * built its ~180 schema classes, locales and tables again for every HostEnrollment. Shared, it
 * exists once. The SDK freezes what is loaded here, so nothing here may keep state that workflows
 * change: zod's is its global configuration (locale, memoizer), set by its first schema, which is
 * why one is built and used here, before the freeze. Our own schemas are built by each workflow,
 * lazily (shared/lazy-schema.ts), because zod changes a schema as it is used.
 */
import { z } from 'zod';

z.object({
  settled: z
    .string()
    .regex(/^settled$/)
    .optional(),
}).safeParse({ settled: 'settled' });
