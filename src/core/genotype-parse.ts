/**
 * Reads a genotype from text: DARTS's Python notation, exactly as DARTS's `cnn/genotypes.py` writes it
 * (`Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5], reduce=[...],
 * reduce_concat=range(2, 6))`, optionally prefixed by `NAME = `), or the JSON form
 * (`{"normal": [["sep_conv_3x3", 0], ...], "normal_concat": [...], ...}`). The notation is detected
 * automatically. A hand-written tokenizer and recursive-descent parser: nothing is ever evaluated.
 */
import { InputError } from './errors.js';
import type { Genotype } from './genotype.js';
import { validateGenotype } from './genotype-validate.js';

const FIELDS = ['normal', 'normal_concat', 'reduce', 'reduce_concat'] as const;
type Field = (typeof FIELDS)[number];

interface Position {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

type TokenKind = 'ident' | 'string' | 'number' | 'punct' | 'eof';

interface Token {
  readonly kind: TokenKind;
  /** Identifier name, string contents, number text or the punctuation character. */
  readonly value: string;
  /** The token as written, for error messages. */
  readonly raw: string;
  readonly pos: Position;
}

/** A parsed literal, before it is interpreted as a genotype. */
type Value =
  | { kind: 'string'; value: string; pos: Position }
  | { kind: 'number'; value: number; raw: string; pos: Position }
  | { kind: 'list'; items: Value[]; pos: Position; bracket: '[' | '(' }
  | { kind: 'dict'; entries: { key: Value; value: Value }[]; pos: Position }
  | { kind: 'call'; name: string; args: Value[]; kwargs: Kwarg[]; pos: Position }
  | { kind: 'name'; name: string; pos: Position };

interface Kwarg {
  readonly name: string;
  readonly value: Value;
  readonly pos: Position;
}

/** Genotypes nest four levels deep; anything much deeper is not a genotype. */
const MAX_DEPTH = 32;

const PUNCT = new Set(['(', ')', '[', ']', '{', '}', ',', '=', ':', '-']);

/** "genotype: expected ')' at line 1, column 57 but found end of input" */
function syntaxError(message: string, pos: Position, found?: Token): InputError {
  const tail = found ? ` but found ${describeToken(found)}` : '';
  return new InputError(`genotype: ${message} at line ${pos.line}, column ${pos.column}${tail}`);
}

function describeToken(t: Token): string {
  if (t.kind === 'eof') return 'end of input';
  if (t.kind === 'string') return `string ${t.raw}`;
  if (t.kind === 'number') return `number ${t.raw}`;
  return `'${t.raw}'`;
}

/** Splits the text into tokens, each with its line and column (both 1-based). */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const here = (): Position => ({ offset: i, line, column: i - lineStart + 1 });

  while (i < text.length) {
    const c = text[i] as string;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\ufeff') {
      i++;
      continue;
    }
    if (c === '#') {
      // Python comment up to the end of the line.
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const pos = here();
    if (c === "'" || c === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length || text[j] === '\n') {
          throw syntaxError(`unterminated string (expected closing ${c})`, pos);
        }
        const d = text[j] as string;
        if (d === c) break;
        if (d === '\\') {
          const e = text[j + 1];
          if (e === undefined) throw syntaxError('unterminated string', pos);
          const escapes: Record<string, string> = {
            n: '\n',
            t: '\t',
            r: '\r',
            '\\': '\\',
            "'": "'",
            '"': '"',
            '/': '/',
          };
          const mapped = escapes[e];
          if (mapped === undefined) {
            throw syntaxError(`unsupported escape '\\${e}' in string`, {
              offset: j,
              line,
              column: j - lineStart + 1,
            });
          }
          value += mapped;
          j += 2;
          continue;
        }
        value += d;
        j++;
      }
      tokens.push({ kind: 'string', value, raw: text.slice(i, j + 1), pos });
      i = j + 1;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i));
      const raw = (m as RegExpExecArray)[0];
      tokens.push({ kind: 'number', value: raw, raw, pos });
      i += raw.length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
      const raw = (m as RegExpExecArray)[0];
      tokens.push({ kind: 'ident', value: raw, raw, pos });
      i += raw.length;
      continue;
    }
    if (PUNCT.has(c)) {
      tokens.push({ kind: 'punct', value: c, raw: c, pos });
      i++;
      continue;
    }
    throw syntaxError(`unexpected character '${c}'`, pos);
  }
  tokens.push({ kind: 'eof', value: '', raw: '', pos: here() });
  return tokens;
}

/** Recursive-descent parser over the tokens: literals, lists, tuples, dicts and calls. */
class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  peek(ahead = 0): Token {
    const t = this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)];
    return t as Token;
  }

  next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.index++;
    return t;
  }

  isPunct(ch: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === 'punct' && t.value === ch;
  }

  expectPunct(ch: string): Token {
    const t = this.peek();
    if (t.kind !== 'punct' || t.value !== ch) {
      throw syntaxError(`expected '${ch}'`, t.pos, t);
    }
    return this.next();
  }

  expectEnd(): void {
    const t = this.peek();
    if (t.kind !== 'eof') throw syntaxError('expected end of input', t.pos, t);
  }

  /** `[NAME =] value` */
  parseTop(): Value {
    if (this.peek().kind === 'ident' && this.isPunct('=', 1)) {
      this.next();
      this.next();
    }
    const value = this.parseValue();
    this.expectEnd();
    return value;
  }

  parseValue(): Value {
    const t = this.peek();
    if (this.depth >= MAX_DEPTH)
      throw syntaxError(`nesting deeper than ${MAX_DEPTH} levels`, t.pos);
    this.depth++;
    try {
      return this.parseValueAt(t);
    } finally {
      this.depth--;
    }
  }

  private parseValueAt(t: Token): Value {
    if (t.kind === 'string') {
      this.next();
      return { kind: 'string', value: t.value, pos: t.pos };
    }
    if (t.kind === 'number') {
      this.next();
      return { kind: 'number', value: Number(t.value), raw: t.raw, pos: t.pos };
    }
    if (t.kind === 'punct' && t.value === '-' && this.peek(1).kind === 'number') {
      this.next();
      const n = this.next();
      return { kind: 'number', value: -Number(n.value), raw: `-${n.raw}`, pos: t.pos };
    }
    if (t.kind === 'punct' && (t.value === '[' || t.value === '(')) {
      this.next();
      const close = t.value === '[' ? ']' : ')';
      const items = this.parseSequence(close, () => this.parseValue());
      return { kind: 'list', items, pos: t.pos, bracket: t.value };
    }
    if (t.kind === 'punct' && t.value === '{') {
      this.next();
      const entries = this.parseSequence('}', () => {
        const key = this.parseValue();
        this.expectPunct(':');
        return { key, value: this.parseValue() };
      });
      return { kind: 'dict', entries, pos: t.pos };
    }
    if (t.kind === 'ident') {
      this.next();
      if (!this.isPunct('(')) return { kind: 'name', name: t.value, pos: t.pos };
      this.next();
      const args: Value[] = [];
      const kwargs: Kwarg[] = [];
      this.parseSequence(')', () => {
        const a = this.peek();
        if (a.kind === 'ident' && this.isPunct('=', 1)) {
          this.next();
          this.next();
          kwargs.push({ name: a.value, value: this.parseValue(), pos: a.pos });
        } else {
          if (kwargs.length > 0) {
            throw syntaxError('positional argument after keyword argument', a.pos);
          }
          args.push(this.parseValue());
        }
        return null;
      });
      return { kind: 'call', name: t.value, args, kwargs, pos: t.pos };
    }
    throw syntaxError('expected a value', t.pos, t);
  }

  /** Items separated by commas, an optional trailing comma, then `close`. */
  parseSequence<T>(close: string, item: () => T): T[] {
    const out: T[] = [];
    for (;;) {
      if (this.isPunct(close)) {
        this.next();
        return out;
      }
      out.push(item());
      if (this.isPunct(',')) {
        this.next();
        continue;
      }
      const t = this.peek();
      if (!(t.kind === 'punct' && t.value === close)) {
        throw syntaxError(`expected ',' or '${close}'`, t.pos, t);
      }
    }
  }
}

function at(v: Value): string {
  return `at line ${v.pos.line}, column ${v.pos.column}`;
}

function describeValue(v: Value): string {
  switch (v.kind) {
    case 'string':
      return `string '${v.value}'`;
    case 'number':
      return `number ${v.raw}`;
    case 'list':
      return v.bracket === '[' ? 'a list' : 'a tuple';
    case 'dict':
      return 'a dict';
    case 'call':
      return `a call of ${v.name}()`;
    case 'name':
      return `name '${v.name}'`;
  }
}

/** One `(op, input)` pair, kept as read (the validator checks ops and indices). */
function toEdge(v: Value, field: Field, k: number): [string, number] {
  const where = `${field}[${k}]`;
  if (v.kind !== 'list' || v.items.length !== 2) {
    const found = v.kind === 'list' ? `${v.items.length} items` : describeValue(v);
    throw new InputError(`genotype: ${where} must be an (op, input) pair, found ${found} ${at(v)}`);
  }
  const [op, input] = v.items as [Value, Value];
  if (op.kind !== 'string') {
    throw new InputError(
      `genotype: ${where} op must be a quoted name, found ${describeValue(op)} ${at(op)}`,
    );
  }
  if (input.kind !== 'number') {
    throw new InputError(
      `genotype: ${where} input must be a number, found ${describeValue(input)} ${at(input)}`,
    );
  }
  return [op.value, input.value];
}

function toEdges(v: Value, field: Field): [string, number][] {
  if (v.kind !== 'list') {
    throw new InputError(
      `genotype: ${field} must be a list of (op, input) pairs, found ${describeValue(v)} ${at(v)}`,
    );
  }
  return v.items.map((item, k) => toEdge(item, field, k));
}

function integerArg(v: Value, field: Field): number {
  if (v.kind !== 'number' || !Number.isInteger(v.value)) {
    throw new InputError(
      `genotype: ${field}: range() takes integers, found ${describeValue(v)} ${at(v)}`,
    );
  }
  return v.value;
}

/** A list of state indices, or Python's `range(stop)` / `range(start, stop[, step])`. */
function toConcat(v: Value, field: Field): number[] {
  if (v.kind === 'call' && v.name === 'range') {
    if (v.kwargs.length > 0 || v.args.length < 1 || v.args.length > 3) {
      throw new InputError(`genotype: ${field}: range() takes 1 to 3 integers ${at(v)}`);
    }
    const nums = v.args.map((a) => integerArg(a, field));
    const [start, stop, step] =
      nums.length === 1 ? [0, nums[0] as number, 1] : [nums[0], nums[1], nums[2] ?? 1];
    if (step === 0)
      throw new InputError(`genotype: ${field}: range() step must not be zero ${at(v)}`);
    const out: number[] = [];
    for (let s = start as number; step! > 0 ? s < stop! : s > stop!; s += step!) {
      out.push(s);
      if (out.length > 10_000) {
        throw new InputError(`genotype: ${field}: range() is too long ${at(v)}`);
      }
    }
    return out;
  }
  if (v.kind !== 'list') {
    throw new InputError(
      `genotype: ${field} must be a list of state indices or range(a, b), found ${describeValue(v)} ${at(v)}`,
    );
  }
  return v.items.map((item, k) => {
    if (item.kind !== 'number') {
      throw new InputError(
        `genotype: ${field}[${k}] must be a state index, found ${describeValue(item)} ${at(item)}`,
      );
    }
    return item.value;
  });
}

/** Collects the four fields from `Genotype(...)` arguments or JSON object entries. */
function toGenotype(top: Value): unknown {
  const fields = new Map<Field, Value>();
  const put = (name: string, value: Value, pos: Position): void => {
    if (!(FIELDS as readonly string[]).includes(name)) {
      throw new InputError(
        `genotype: unknown field '${name}' at line ${pos.line}, column ${pos.column} (expected ${FIELDS.join(', ')})`,
      );
    }
    if (fields.has(name as Field)) {
      throw new InputError(
        `genotype: field '${name}' given twice at line ${pos.line}, column ${pos.column}`,
      );
    }
    fields.set(name as Field, value);
  };

  if (top.kind === 'call') {
    if (top.name !== 'Genotype') {
      throw new InputError(
        `genotype: expected Genotype(...) but found ${top.name}(...) ${at(top)}`,
      );
    }
    if (top.args.length > FIELDS.length) {
      throw new InputError(
        `genotype: Genotype() takes at most ${FIELDS.length} arguments, found ${top.args.length} ${at(top)}`,
      );
    }
    top.args.forEach((a, k) => put(FIELDS[k] as Field, a, a.pos));
    for (const kw of top.kwargs) put(kw.name, kw.value, kw.pos);
  } else if (top.kind === 'dict') {
    for (const { key, value } of top.entries) {
      if (key.kind !== 'string') {
        throw new InputError(
          `genotype: object keys must be strings, found ${describeValue(key)} ${at(key)}`,
        );
      }
      put(key.value, value, key.pos);
    }
  } else {
    throw new InputError(
      `genotype: expected Genotype(...) or a JSON object but found ${describeValue(top)} ${at(top)}`,
    );
  }

  const missing = FIELDS.filter((f) => !fields.has(f));
  if (missing.length > 0) {
    throw new InputError(
      `genotype: missing field${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
    );
  }
  return {
    normal: toEdges(fields.get('normal') as Value, 'normal'),
    normal_concat: toConcat(fields.get('normal_concat') as Value, 'normal_concat'),
    reduce: toEdges(fields.get('reduce') as Value, 'reduce'),
    reduce_concat: toConcat(fields.get('reduce_concat') as Value, 'reduce_concat'),
  };
}

/**
 * Parses a genotype written in DARTS's Python notation or as JSON (detected automatically) and
 * validates it. Throws {@link InputError} naming the position and what was expected on a syntax
 * error, or the cell, node and field on an invalid genotype.
 */
export function parseGenotype(text: string): Genotype {
  if (typeof text !== 'string') throw new InputError('genotype: expected text');
  if (text.trim() === '') throw new InputError('genotype: empty input');
  const parser = new Parser(tokenize(text));
  return validateGenotype(toGenotype(parser.parseTop()));
}
