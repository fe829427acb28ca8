import { z } from 'zod';
import { blankToUndefined } from './formats.js';
import { secretSource, type SecretValue } from './read-secret.js';
import type { SecretSource } from './secret.js';

/** The README tables, each between `<!-- config:<table> -->` and `<!-- /config:<table> -->`. */
export const CONFIG_TABLES = ['general', 'fleet', 'security'] as const;
export type ConfigTable = (typeof CONFIG_TABLES)[number];

/** A variable's row in its README table. */
export interface VariableDoc {
  table: ConfigTable;
  /** The Default column. */
  default: string;
  /** The Meaning column. */
  meaning: string;
}

/** The value another variable resolved to, for defaults and checks that depend on it. */
export type Lookup = <T>(variable: Variable<T>) => T;

/** One environment variable: how it is read and checked, what it becomes, and its README row. */
export class Variable<T> {
  constructor(
    readonly name: string,
    readonly doc: VariableDoc,
    /** Read from `NAME` or from the file `NAME_FILE` names; its value never reaches an error message. */
    readonly secret: boolean,
    /** Checks a setting's text (all settings are checked before any secret is read); secrets have none. */
    readonly schema: z.ZodType | undefined,
    readonly resolve: (raw: unknown, get: Lookup) => T,
  ) {}
}

/** A variable Autopilot no longer reads, and what to set instead (a sentence for the ConfigError). */
export interface RetiredVariable {
  name: string;
  instead: string;
}

/** A value made of several variables (e.g. TLS settings that only make sense together). */
export class Derived<T> {
  constructor(
    readonly inputs: Readonly<Record<string, Variable<unknown>>>,
    readonly compute: (values: Record<string, unknown>, get: Lookup) => T,
  ) {}
}

export type ConfigNode = Variable<unknown> | Derived<unknown> | { readonly [key: string]: ConfigNode };

/** The typed configuration a tree of declarations resolves to. */
export type ConfigValue<N> =
  N extends Variable<infer T> ? T : N extends Derived<infer T> ? T : { -readonly [K in keyof N]: ConfigValue<N[K]> };

interface Documented {
  table: ConfigTable;
  /** One line for README's Meaning column. */
  doc: string;
}

/** A plain variable, checked by `schema`, with a default (shown in README's Default column). */
export function setting<S extends z.ZodType, T = z.output<S>>(
  name: string,
  schema: S,
  options: Documented & { default: z.input<S>; then?: (value: z.output<S>, get: Lookup) => T },
): Variable<T> {
  return new Variable(
    name,
    { table: options.table, default: `\`${String(options.default)}\``, meaning: options.doc },
    false,
    z.preprocess(blankToUndefined, schema.default(options.default as never)),
    (raw, get) => (options.then ? options.then(raw as z.output<S>, get) : (raw as T)),
  );
}

/** A plain variable without a fixed default; `defaultDoc` says what unset means (derived, or nothing). */
export function optionalSetting<S extends z.ZodType, T = z.output<S> | undefined>(
  name: string,
  schema: S,
  options: Documented & { defaultDoc: string; then?: (value: z.output<S> | undefined, get: Lookup) => T },
): Variable<T> {
  return new Variable(
    name,
    { table: options.table, default: options.defaultDoc, meaning: options.doc },
    false,
    z.preprocess(blankToUndefined, schema.optional()),
    (raw, get) => (options.then ? options.then(raw as z.output<S> | undefined, get) : (raw as T)),
  );
}

/** A secret from `NAME` or `NAME_FILE`: a `SecretSource`, or what `then` makes of what was read. */
export function secret<T = SecretSource | undefined>(
  name: string,
  options: Documented & { defaultDoc: string; then?: (value: SecretValue | undefined, get: Lookup) => T },
): Variable<T> {
  const then = options.then ?? ((value: SecretValue | undefined) => (value && secretSource(value)) as T);
  return new Variable(
    name,
    { table: options.table, default: options.defaultDoc, meaning: options.doc },
    true,
    undefined,
    (raw, get) => then(raw as SecretValue | undefined, get),
  );
}

/** A value computed from `inputs`, variables declared here and nowhere else. */
export function derived<const I extends Readonly<Record<string, VariableLike>>, T>(
  inputs: I,
  compute: (values: { [K in keyof I]: ConfigValue<I[K]> }, get: Lookup) => T,
): Derived<T> {
  return new Derived(
    inputs as unknown as Record<string, Variable<unknown>>,
    compute as (values: Record<string, unknown>, get: Lookup) => T,
  );
}

/**
 * What `derived` accepts as an input: typed without `Variable<unknown>` so that the inputs' own value
 * types are inferred rather than taken from the constraint.
 */
type VariableLike = Pick<Variable<never>, 'name' | 'doc' | 'secret'>;

/** Every variable of a tree, in declaration order (the order of the README rows). */
export function variablesOf(node: ConfigNode): Variable<unknown>[] {
  if (node instanceof Variable) return [node];
  if (node instanceof Derived) return Object.values(node.inputs);
  return Object.values(node).flatMap(variablesOf);
}
