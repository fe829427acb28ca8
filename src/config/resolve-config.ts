import { z } from 'zod';
import { ConfigError } from './config-error.js';
import { blankToUndefined, type Env } from './formats.js';
import { readSecretValue } from './read-secret.js';
import {
  Derived,
  Variable,
  variablesOf,
  type ConfigNode,
  type ConfigValue,
  type Lookup,
  type RetiredVariable,
} from './variable.js';

/**
 * Resolves a tree of declarations against the environment. A retired variable that is set is an
 * error first. Every plain variable is checked first and
 * the first bad one (in declaration order) is reported with the value it had; then secrets are read
 * and each variable becomes its value, then the tree is assembled.
 */
export function resolveConfig<N extends ConfigNode>(
  tree: N,
  env: Env,
  retired: readonly RetiredVariable[] = [],
): ConfigValue<N> {
  // A retired variable that is still set means a set-up that expects something Autopilot no longer
  // does; going on without it could leave a server open that the operator believes closed.
  for (const { name, instead } of retired) {
    const set = [name, `${name}_FILE`].find((n) => blankToUndefined(env[n]) !== undefined);
    if (set) throw new ConfigError(set, `is no longer read: ${instead}`);
  }
  const variables = variablesOf(tree);
  const settings = variables.filter((v) => v.schema !== undefined);
  const parsed = z.object(Object.fromEntries(settings.map((v) => [v.name, v.schema!]))).safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0]);
    throw new ConfigError(variable, `${issue.message} (got ${JSON.stringify(env[variable] ?? '')})`);
  }
  const raw = parsed.data as Record<string, unknown>;
  const declared = new Set<Variable<unknown>>(variables);
  const values = new Map<Variable<unknown>, unknown>();
  const get: Lookup = <T>(variable: Variable<T>): T => {
    if (!declared.has(variable)) throw new Error(`${variable.name} is not part of the configuration tree`);
    if (!values.has(variable)) {
      const input = variable.secret ? readSecretValue(env, variable.name) : raw[variable.name];
      values.set(variable, variable.resolve(input, get));
    }
    return values.get(variable) as T;
  };
  for (const variable of variables) get(variable);

  const assemble = (node: ConfigNode): unknown => {
    if (node instanceof Variable) return get(node);
    if (node instanceof Derived) {
      const inputs = Object.fromEntries(Object.entries(node.inputs).map(([key, v]) => [key, get(v)]));
      return node.compute(inputs, get);
    }
    return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, assemble(child)]));
  };
  return assemble(tree) as ConfigValue<N>;
}
