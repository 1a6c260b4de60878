/**
 * Command-line options built from zod schemas, so that a field's type, bounds and default are
 * written once, in the schema (evalConfigSchema, searchConfigObject, or a command's own small
 * schema): each field becomes a commander Option (`learningRate` -> `--learning-rate`, or a flag
 * named in the table) whose argParser runs the field's schema on the typed value and throws
 * commander's InvalidArgumentError with zod's message, so a bad argument exits 2 naming the option,
 * the value and the problem. Enums become commander choices; booleans become plain flags.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import { formatIssues } from '../core/issues.js';

/** How one field is offered on the command line. */
export interface OptionSpec {
  /** The flag without its dashes (default: the field name in kebab case). */
  readonly flag?: string;
  /** The value's placeholder in --help, e.g. 'n' (default 'value'; booleans take none). */
  readonly arg?: string;
  readonly description: string;
  /** Text -> what the schema checks (default: a number for number fields, else the text). */
  readonly parse?: (text: string) => unknown;
  /** This command's own default, instead of the schema's (e.g. evaluate scores the test split). */
  readonly default?: unknown;
}

/**
 * Where a default goes: 'value' gives it to the option (the action always sees a value), 'help'
 * only shows it in --help and leaves the option undefined when not given (so that a config file
 * can supply the field and the schema fills the default).
 */
export type DefaultMode = 'value' | 'help';

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** A decimal number as typed ('3', '-1', '0.5', '3e-4'); InvalidArgumentError otherwise. */
export function numberText(text: string): number {
  const t = text.trim();
  if (!NUMBER.test(t)) throw new InvalidArgumentError('Invalid input: expected a number');
  return Number(t);
}

/** A number or a fraction such as 8/255 (the usual way to write eps). */
export function fractionText(text: string): number {
  const m = /^\s*([^/]+)\/([^/]+)$/.exec(text);
  if (!m) return numberText(text);
  const denominator = numberText(m[2] as string);
  if (denominator === 0) throw new InvalidArgumentError('Invalid input: division by zero');
  return numberText(m[1] as string) / denominator;
}

/** Parses what a user typed with `parse`, then checks it with `schema` (zod's message otherwise). */
export function schemaArgParser<S extends z.ZodType>(
  schema: S,
  parse: (text: string) => unknown = (t) => t,
): (text: string) => z.output<S> {
  return (text: string) => {
    const r = schema.safeParse(parse(text));
    if (!r.success) throw new InvalidArgumentError(formatIssues(r.error));
    return r.data;
  };
}

/**
 * Like schemaArgParser, for an argument that may hold a secret (a Redis URL's password): the error
 * is an InputError (one line, exit 2) naming `flag` with the schema's message only, because
 * commander's own message would repeat the argument as typed.
 */
export function secretArgParser<S extends z.ZodType>(
  flag: string,
  schema: S,
): (text: string) => z.output<S> {
  return (text: string) => {
    const r = schema.safeParse(text);
    if (!r.success) throw new InputError(`${flag}: ${formatIssues(r.error)}`);
    return r.data;
  };
}

interface Unwrapped {
  readonly inner: z.ZodType;
  readonly defaultValue: unknown;
}

/** The schema under .default()/.optional(), and its default if it has one. */
export function unwrapField(schema: z.ZodType): Unwrapped {
  let inner: z.ZodType = schema;
  let defaultValue: unknown;
  for (;;) {
    if (inner instanceof z.ZodDefault) {
      if (defaultValue === undefined) defaultValue = inner.def.defaultValue;
      inner = inner.unwrap() as z.ZodType;
    } else if (inner instanceof z.ZodOptional) {
      inner = inner.unwrap() as z.ZodType;
    } else {
      return { inner, defaultValue };
    }
  }
}

export function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** One option for `name`, typed and checked by `schema`. */
export function schemaOption(
  name: string,
  schema: z.ZodType,
  spec: OptionSpec,
  mode: DefaultMode = 'value',
): Option {
  const { inner, defaultValue } = unwrapField(schema);
  const flag = `--${spec.flag ?? kebabCase(name)}`;
  if (inner instanceof z.ZodBoolean) return new Option(flag, spec.description);
  const fallback = 'default' in spec ? spec.default : defaultValue;
  const description =
    mode === 'help' && fallback !== undefined
      ? `${spec.description} (default: ${JSON.stringify(fallback)})`
      : spec.description;
  const option = new Option(`${flag} <${spec.arg ?? 'value'}>`, description);
  if (inner instanceof z.ZodEnum && spec.parse === undefined) {
    option.choices(inner.options.map(String));
  } else {
    const parse = spec.parse ?? (inner instanceof z.ZodNumber ? numberText : undefined);
    option.argParser(schemaArgParser(inner, parse));
  }
  if (mode === 'value' && fallback !== undefined) option.default(fallback);
  return option;
}

type Shape = Readonly<Record<string, z.ZodType>>;

/** The values of the fields a SchemaOptions offers, as given on the command line (or defaulted). */
export type OptionValues<S extends Shape, K extends keyof S> = {
  [P in K]?: z.output<S[P]>;
};

/**
 * The options of some fields of one schema. `addTo` registers them on a command; `values` reads
 * what the action received back into the fields' names.
 */
export class SchemaOptions<S extends Shape, K extends keyof S & string> {
  readonly options: readonly (readonly [K, Option])[];
  /** The fields offered, as one object schema. */
  readonly schema: z.ZodObject<Pick<S, K>>;

  constructor(
    shape: S,
    table: { readonly [P in K]: OptionSpec },
    readonly mode: DefaultMode = 'value',
  ) {
    const names = Object.keys(table) as K[];
    this.options = names.map(
      (name) => [name, schemaOption(name, shape[name] as z.ZodType, table[name], mode)] as const,
    );
    const picked = Object.fromEntries(names.map((name) => [name, shape[name]])) as Pick<S, K>;
    this.schema = z.object(picked);
  }

  addTo(command: Command): Command {
    for (const [, option] of this.options) command.addOption(option);
    return command;
  }

  /** The fields the options hold values for (given, or defaulted in 'value' mode). */
  values(opts: Readonly<Record<string, unknown>>): OptionValues<S, K> {
    const out: Partial<Record<K, unknown>> = {};
    for (const [name, option] of this.options) {
      const value = opts[option.attributeName()];
      if (value !== undefined) out[name] = value;
    }
    return out as OptionValues<S, K>;
  }

  /** The fields as the schema outputs them (with its defaults for what was not given). */
  parse(opts: Readonly<Record<string, unknown>>): z.output<z.ZodObject<Pick<S, K>>> {
    const r = this.schema.safeParse(this.values(opts));
    if (!r.success) throw new InputError(`invalid options: ${formatIssues(r.error)}`);
    return r.data;
  }
}

/** Comma-separated items, blanks dropped. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * An argParser for a comma-separated list whose items `parseItem` reads (e.g. numbers or fractions);
 * the error names the item. Bounds are left to the schema the assembled value is parsed with.
 */
export function listArgParser<T>(parseItem: (item: string) => T): (text: string) => T[] {
  return (text: string) => {
    const items = splitList(text);
    if (items.length === 0) throw new InvalidArgumentError('Invalid input: expected a list');
    return items.map((item) => {
      try {
        return parseItem(item);
      } catch (err) {
        if (err instanceof InvalidArgumentError) {
          throw new InvalidArgumentError(`'${item}': ${err.message}`);
        }
        throw err;
      }
    });
  };
}
