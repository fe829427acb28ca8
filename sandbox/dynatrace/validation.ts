import type { z } from 'zod';
import { badRequest, violation } from './http.js';

/** Validates a request body and answers 400 with one constraint violation per problem, like Dynatrace. */
export function validateBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const violations = result.error.issues.map((issue) =>
    violation(issue.path.length > 0 ? issue.path.join('.') : null, issue.message),
  );
  throw badRequest(`Constraints violated.`, violations);
}

export function queryFlag(value: string | null, name: string): boolean {
  if (value === null || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw badRequest(`${name} must be true or false`, [violation(name, 'must be a boolean', 'QUERY')]);
}
