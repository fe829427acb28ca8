import path from 'node:path';

/** The repository's root: relative paths in the configuration are resolved against it. */
export const projectRoot = path.resolve(import.meta.dirname, '..', '..');
