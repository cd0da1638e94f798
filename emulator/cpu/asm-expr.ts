// Tokens and constant expressions of guest assembly (LANGUAGE.md "Lexical" and "Expressions" subset): numbers
// (decimal, 0x, 0b, `_` separators, K/M/G/T size suffixes), symbols and labels, `( )`, unary `- ~ +`, binary
// `* / % + - << >> & ^ |` with C precedence, 64-bit modular arithmetic, logical `>>`.
//
// Besides the value, an expression carries GNU as's `X_unsigned` notion (false only when a unary minus produced the
// value), because GAS merges literal-pool entries only when value AND signedness match (checked against
// binutils 2.40: `ldr x0,=-1` and `ldr x1,=0xffffffffffffffff` get two pool slots; `=0-1` shares the second).

export interface Token {
  kind: 'ident' | 'num' | 'str' | 'punct';
  text: string;
  /** 0-based column in the line (start, end exclusive). */
  start: number;
  end: number;
  /** Numeric value for 'num'; decoded string for 'str'. */
  value?: bigint;
  str?: string;
}

export class AsmError extends Error {
  constructor(
    message: string,
    readonly start: number,
    readonly end: number,
  ) {
    super(message);
  }
}

const MASK64 = (1n << 64n) - 1n;
const SIZE_SUFFIX: Record<string, bigint> = { K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n };
const PUNCT = ['<<', '>>', ',', '[', ']', '!', '#', '=', ':', '(', ')', '+', '-', '*', '/', '%', '&', '|', '^', '~', '{', '}'];

/** Split one line (comments already blanked) into tokens. */
export function tokenize(line: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_.$]/.test(c)) {
      while (i < line.length && /[A-Za-z0-9_.$]/.test(line[i]!)) i++;
      out.push({ kind: 'ident', text: line.slice(start, i), start, end: i });
      continue;
    }
    if (/[0-9]/.test(c)) {
      while (i < line.length && /[A-Za-z0-9_]/.test(line[i]!)) i++;
      const text = line.slice(start, i);
      out.push({ kind: 'num', text, start, end: i, value: parseNumber(text, start, i) });
      continue;
    }
    if (c === '"') {
      i++;
      let s = '';
      let closed = false;
      while (i < line.length) {
        const d = line[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < line.length) {
          const e = line[i + 1]!;
          i += 2;
          const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v' };
          if (e === 'x') {
            let h = '';
            while (i < line.length && /[0-9a-fA-F]/.test(line[i]!) && h.length < 2) h += line[i++];
            s += String.fromCharCode(parseInt(h || '0', 16));
          } else if (/[0-7]/.test(e) && e !== '0') {
            let o = e;
            while (i < line.length && /[0-7]/.test(line[i]!) && o.length < 3) o += line[i++];
            s += String.fromCharCode(parseInt(o, 8) & 0xff);
          } else s += simple[e] ?? e;
          continue;
        }
        s += d;
        i++;
      }
      if (!closed) throw new AsmError('unterminated string', start, line.length);
      out.push({ kind: 'str', text: line.slice(start, i), start, end: i, str: s });
      continue;
    }
    const p = PUNCT.find((q) => line.startsWith(q, i));
    if (!p) throw new AsmError(`unexpected character '${c}'`, i, i + 1);
    i += p.length;
    out.push({ kind: 'punct', text: p, start, end: i });
  }
  return out;
}

function parseNumber(text: string, start: number, end: number): bigint {
  let t = text.replace(/_/g, '');
  let mult = 1n;
  const last = t[t.length - 1]!.toUpperCase();
  if (SIZE_SUFFIX[last] !== undefined && !/^0x/i.test(t)) {
    mult = SIZE_SUFFIX[last]!;
    t = t.slice(0, -1);
  } else if (/^0x/i.test(t) && /[KMGT]$/.test(t) && !/[0-9a-fA-F]$/.test(t)) {
    mult = SIZE_SUFFIX[t[t.length - 1]!]!;
    t = t.slice(0, -1);
  }
  let v: bigint;
  if (/^0x[0-9a-f]+$/i.test(t)) v = BigInt(t);
  else if (/^0b[01]+$/i.test(t)) v = BigInt(t);
  else if (/^[0-9]+$/.test(t)) v = BigInt(t);
  else throw new AsmError(`invalid number '${text}'`, start, end);
  v *= mult;
  if (v > MASK64) throw new AsmError(`number '${text}' does not fit in 64 bits`, start, end);
  return v;
}

export interface ExprValue {
  value: bigint; // 0 .. 2^64-1
  /** GAS X_unsigned: false when the value came from a unary minus. */
  unsigned: boolean;
  /** The expression referenced a label (an address). */
  hasLabel: boolean;
}

/** Resolves a name: a label address, a predefined symbol or scenario constant. undefined = unknown. */
export type NameResolver = (name: string) => { value: bigint; isLabel: boolean } | undefined;

/** Thrown for a name the resolver does not know (callers may retry in a later pass). */
export class UndefinedName extends AsmError {}

/** Parse and evaluate tokens[from, to) as one expression. */
export function evalExpr(tokens: readonly Token[], resolve: NameResolver, from = 0, to = tokens.length): ExprValue {
  if (from >= to) {
    const at = tokens[from - 1]?.end ?? 0;
    throw new AsmError('expected an expression', at, at + 1);
  }
  let pos = from;
  const peek = (): Token | undefined => (pos < to ? tokens[pos] : undefined);
  const BIN: Record<string, number> = { '|': 1, '^': 2, '&': 3, '<<': 4, '>>': 4, '+': 5, '-': 5, '*': 6, '/': 6, '%': 6 };

  const primary = (): ExprValue => {
    const t = peek();
    if (!t) {
      const at = tokens[pos - 1]?.end ?? 0;
      throw new AsmError('expected an expression', at, at + 1);
    }
    pos++;
    if (t.kind === 'num') return { value: t.value!, unsigned: true, hasLabel: false };
    if (t.kind === 'ident') {
      const r = resolve(t.text);
      if (!r) throw new UndefinedName(`undefined symbol '${t.text}'`, t.start, t.end);
      return { value: r.value & MASK64, unsigned: true, hasLabel: r.isLabel };
    }
    if (t.text === '(') {
      const v = binary(0);
      const c = peek();
      if (!c || c.text !== ')') throw new AsmError("expected ')'", c?.start ?? t.end, c?.end ?? t.end + 1);
      pos++;
      return v;
    }
    if (t.text === '-') {
      const v = primary();
      return { value: -v.value & MASK64, unsigned: false, hasLabel: v.hasLabel };
    }
    if (t.text === '~') {
      const v = primary();
      return { value: ~v.value & MASK64, unsigned: v.unsigned, hasLabel: v.hasLabel };
    }
    if (t.text === '+') return primary();
    throw new AsmError(`expected an expression, got '${t.text}'`, t.start, t.end);
  };

  const binary = (minPrec: number): ExprValue => {
    let left = primary();
    for (;;) {
      const t = peek();
      if (!t || t.kind !== 'punct') break;
      const prec = BIN[t.text];
      if (prec === undefined || prec <= minPrec - 1 || prec < minPrec) break;
      pos++;
      const right = binary(prec + 1);
      left = {
        value: applyOp(t, left.value, right.value),
        unsigned: left.unsigned && right.unsigned,
        hasLabel: left.hasLabel || right.hasLabel,
      };
    }
    return left;
  };

  const v = binary(1);
  if (pos < to) {
    const t = tokens[pos]!;
    throw new AsmError(`unexpected '${t.text}' in expression`, t.start, t.end);
  }
  return v;
}

function applyOp(t: Token, a: bigint, b: bigint): bigint {
  switch (t.text) {
    case '+':
      return (a + b) & MASK64;
    case '-':
      return (a - b) & MASK64;
    case '*':
      return (a * b) & MASK64;
    case '/':
      if (b === 0n) throw new AsmError('division by zero', t.start, t.end);
      return a / b;
    case '%':
      if (b === 0n) throw new AsmError('division by zero', t.start, t.end);
      return a % b;
    case '<<':
      return b >= 64n ? 0n : (a << b) & MASK64;
    case '>>':
      return b >= 64n ? 0n : a >> b;
    case '&':
      return a & b;
    case '|':
      return a | b;
    case '^':
      return a ^ b;
  }
  throw new AsmError(`unknown operator '${t.text}'`, t.start, t.end);
}
