// Breakpoint conditions and `evaluate` expressions (ARCHITECTURE.md "Debug adapter shapes"): the LANGUAGE.md
// expression grammar (numbers, symbols, `( )`, unary `- ~`, binary `* / % + - << >> & ^ |` with C precedence,
// 64-bit modulo arithmetic) plus `== != < <= > >= && || !`, string literals and the memory form
// `*(u8|u16|u32|u64*)ADDR`. Tokens come from the scenario lexer and the arithmetic from scenario/expr.ts, so
// numbers and operators mean exactly what they mean in a `.kvms` file. Names are resolved by the caller: event
// fields first (they shadow symbols), then registers, `reg.field` and symbols.

import { tokenize } from '../emulator/scenario/lexer';
import { binary, compare, u64 } from '../emulator/scenario/expr';
import type { Token } from '../emulator/scenario/tokens';

export type CondValue = bigint | string | boolean;

export type CondExpr =
  | { readonly kind: 'num'; readonly value: bigint }
  | { readonly kind: 'str'; readonly value: string }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'call'; readonly fn: string; readonly arg: CondExpr }
  | { readonly kind: 'deref'; readonly size: 1 | 2 | 4 | 8; readonly addr: CondExpr }
  | { readonly kind: 'unary'; readonly op: '-' | '~' | '!'; readonly operand: CondExpr }
  | { readonly kind: 'binary'; readonly op: string; readonly left: CondExpr; readonly right: CondExpr };

export class ConditionError extends Error {}

/** What names, functions and memory mean where the expression is evaluated. */
export interface CondEnv {
  /** a name's value, or undefined when the name is unknown */
  resolve(name: string): CondValue | undefined;
  /** `fn(arg)`: hva/pa of a memslot, translate(VA), …; undefined = unknown function or no value */
  call?(fn: string, arg: bigint): CondValue | undefined;
  /** guest memory at an IPA (`*(u64*)0x4000_0000`); undefined when nothing backs it */
  readMemory?(ipa: bigint, size: 1 | 2 | 4 | 8): bigint | undefined;
}

const PRECEDENCE: { readonly [op: string]: number } = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6, '<': 7, '<=': 7, '>': 7, '>=': 7,
  '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};
const DEREF_SIZES: { readonly [t: string]: 1 | 2 | 4 | 8 } = { u8: 1, u16: 2, u32: 4, u64: 8 };

class Parser {
  private i = 0;
  constructor(private readonly toks: readonly Token[]) {}

  private peek(k = 0): Token { return this.toks[Math.min(this.i + k, this.toks.length - 1)]; }
  private isPunct(t: Token, p: string): boolean { return t.kind === 'punct' && t.text === p; }

  /** the binary operator at the cursor (`&&` / `||` are two adjacent `&` / `|` tokens) and its token count */
  private binaryOp(): { op: string; len: number } | undefined {
    const t = this.peek();
    if (t.kind !== 'punct') return undefined;
    const n = this.peek(1);
    if ((t.text === '&' || t.text === '|') && n.kind === 'punct' && n.text === t.text && n.range.start.offset === t.range.end.offset) {
      return { op: t.text + t.text, len: 2 };
    }
    return PRECEDENCE[t.text] !== undefined ? { op: t.text, len: 1 } : undefined;
  }

  parseAll(): CondExpr {
    const e = this.expr(0);
    const t = this.peek();
    if (t.kind !== 'eof') throw new ConditionError(`unexpected '${t.text}' at column ${t.range.start.col + 1}`);
    return e;
  }

  private expr(minPrec: number): CondExpr {
    let left = this.unary();
    for (;;) {
      const op = this.binaryOp();
      if (!op) return left;
      const prec = PRECEDENCE[op.op];
      if (prec <= minPrec) return left;
      this.i += op.len;
      const right = this.expr(prec);
      left = { kind: 'binary', op: op.op, left, right };
    }
  }

  private unary(): CondExpr {
    const t = this.peek();
    if (t.kind === 'punct' && (t.text === '-' || t.text === '~' || t.text === '!')) {
      this.i++;
      return { kind: 'unary', op: t.text, operand: this.unary() };
    }
    if (this.isPunct(t, '*') && this.isPunct(this.peek(1), '(')) {
      // *(u64*)ADDR
      const ty = this.peek(2);
      const size = ty.kind === 'ident' ? DEREF_SIZES[ty.text.toLowerCase()] : undefined;
      if (size === undefined || !this.isPunct(this.peek(3), '*') || !this.isPunct(this.peek(4), ')')) {
        throw new ConditionError('memory reads are written *(u8|u16|u32|u64*)ADDRESS');
      }
      this.i += 5;
      return { kind: 'deref', size, addr: this.unary() };
    }
    return this.primary();
  }

  private primary(): CondExpr {
    const t = this.peek();
    if (t.error) throw new ConditionError(t.error);
    switch (t.kind) {
      case 'number':
        this.i++;
        if (t.num === null || t.num === undefined) throw new ConditionError(`malformed number '${t.text}'`);
        return { kind: 'num', value: t.num };
      case 'string':
        this.i++;
        return { kind: 'str', value: t.str ?? '' };
      case 'ident': {
        this.i++;
        if (this.isPunct(this.peek(), '(')) {
          this.i++;
          const arg = this.expr(0);
          if (!this.isPunct(this.peek(), ')')) throw new ConditionError(`missing ')' after ${t.text}(`);
          this.i++;
          return { kind: 'call', fn: t.text, arg };
        }
        return { kind: 'name', name: t.text };
      }
      case 'punct':
        if (t.text === '(') {
          this.i++;
          const e = this.expr(0);
          if (!this.isPunct(this.peek(), ')')) throw new ConditionError("missing ')'");
          this.i++;
          return e;
        }
        throw new ConditionError(`unexpected '${t.text}' at column ${t.range.start.col + 1}`);
      case 'eof':
        throw new ConditionError('the expression is incomplete');
      default:
        throw new ConditionError(`unexpected '${t.text}'`);
    }
  }
}

/** Parse a condition / evaluate expression; throws ConditionError with a message for the user. */
export function parseCondition(text: string): CondExpr {
  if (text.includes('\n')) throw new ConditionError('an expression is one line');
  const toks = tokenize(text).filter((t) => t.kind !== 'newline');
  if (toks.length === 1) throw new ConditionError('the expression is empty');
  return new Parser(toks).parseAll();
}

/** every name an expression reads (for checking them against an event kind's fields when it is set) */
export function namesOf(e: CondExpr, out: string[] = []): string[] {
  switch (e.kind) {
    case 'name': out.push(e.name); break;
    case 'call': namesOf(e.arg, out); break;
    case 'deref': namesOf(e.addr, out); break;
    case 'unary': namesOf(e.operand, out); break;
    case 'binary': namesOf(e.left, out); namesOf(e.right, out); break;
    default: break;
  }
  return out;
}

function asNumber(v: CondValue, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  throw new ConditionError(`${what} is the string "${v}", not a number`);
}

export function truthy(v: CondValue): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v !== 0n;
  return v.length > 0;
}

export function evalCondition(e: CondExpr, env: CondEnv): CondValue {
  switch (e.kind) {
    case 'num': return e.value;
    case 'str': return e.value;
    case 'name': {
      const v = env.resolve(e.name);
      if (v === undefined) {
        if (e.name === 'true') return true;
        if (e.name === 'false') return false;
        throw new ConditionError(`unknown name '${e.name}'`);
      }
      return v;
    }
    case 'call': {
      const arg = asNumber(evalCondition(e.arg, env), `the argument of ${e.fn}()`);
      const v = env.call?.(e.fn, arg);
      if (v === undefined) throw new ConditionError(`${e.fn}(0x${arg.toString(16)}) has no value`);
      return v;
    }
    case 'deref': {
      const addr = asNumber(evalCondition(e.addr, env), 'the address');
      const v = env.readMemory?.(addr, e.size);
      if (v === undefined) throw new ConditionError(`no guest memory at IPA 0x${addr.toString(16)}`);
      return v;
    }
    case 'unary': {
      const v = evalCondition(e.operand, env);
      if (e.op === '!') return !truthy(v);
      const n = asNumber(v, 'the operand');
      return e.op === '-' ? u64(-n) : u64(~n);
    }
    case 'binary': {
      if (e.op === '&&') return truthy(evalCondition(e.left, env)) && truthy(evalCondition(e.right, env));
      if (e.op === '||') return truthy(evalCondition(e.left, env)) || truthy(evalCondition(e.right, env));
      const a = evalCondition(e.left, env);
      const b = evalCondition(e.right, env);
      if (e.op === '==' || e.op === '!=') {
        if (typeof a === 'string' || typeof b === 'string') {
          const eq = String(a) === String(b);
          return e.op === '==' ? eq : !eq;
        }
        return compare(e.op, asNumber(a, 'the left side'), asNumber(b, 'the right side'));
      }
      const x = asNumber(a, 'the left side');
      const y = asNumber(b, 'the right side');
      if (e.op === '<' || e.op === '<=' || e.op === '>' || e.op === '>=') return compare(e.op, x, y);
      if ((e.op === '/' || e.op === '%') && y === 0n) throw new ConditionError('division by zero');
      const r = binary(e.op, x, y);
      if (r === undefined) throw new ConditionError(`unknown operator '${e.op}'`);
      return r;
    }
  }
}

/** How a value shows in the UI: numbers as unpadded hex like the trace (`0x40000000`), strings quoted. */
export function formatValue(v: CondValue): string {
  if (typeof v === 'bigint') return '0x' + u64(v).toString(16);
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}
