// Expression evaluation (LANGUAGE.md "Lexical"): values are 64-bit bit patterns held as bigint in [0, 2^64);
// arithmetic is modulo 2^64 (`-1` = 0xffff_ffff_ffff_ffff), `>>` is logical, `/` and `%` are unsigned,
// shifts by 64 or more give 0. A literal above 2^64-1 (null NumberExpr) or a division by zero is a diagnostic.
//
// The same evaluator serves the checker (where `hva()`/`pa()` and label addresses may be unknown: the result is
// `undefined`, "not decidable from the text") and the runner (which supplies them).

import type { Expr } from './ast';
import type { Range } from './tokens';

export const U64_MASK = (1n << 64n) - 1n;

export function u64(v: bigint): bigint {
  return v & U64_MASK;
}

/** Resolution of a name: a value, `undefined` = known name whose value is not known statically, or 'undefined' */
export type NameValue = bigint | undefined | 'undefined';

export interface EvalEnv {
  /** constants, labels, predefined symbols */
  lookup(name: string, range: Range): NameValue;
  /** `hva(ID)`: a memslot's backing address; undefined when not known (the checker) */
  hva?(slot: bigint, range: Range): bigint | undefined;
  /** `pa(ID)`: a memslot's first host-physical address */
  pa?(slot: bigint, range: Range): bigint | undefined;
}

export interface EvalProblem {
  readonly range: Range;
  readonly message: string;
  /** 'undefined-name' | 'division' | 'number' */
  readonly code: string;
}

export interface EvalResult {
  /** the value, or undefined when not decidable (unknown name value, hva/pa unknown, or a problem) */
  readonly value: bigint | undefined;
  readonly problems: readonly EvalProblem[];
}

/** Evaluate an expression. Iterative over binary chains and bounded by the parser's nesting limit; never throws. */
const NO_PROBLEMS: readonly EvalProblem[] = Object.freeze([]);

export function evaluate(e: Expr, env: EvalEnv): EvalResult {
  // the common cases without allocating: a literal, a name
  if (e.kind === 'number' && e.value !== null) return { value: e.value, problems: NO_PROBLEMS };
  const problems: EvalProblem[] = [];
  const value = evalNode(e, env, problems);
  return { value, problems: problems.length ? problems : NO_PROBLEMS };
}

function evalNode(e: Expr, env: EvalEnv, problems: EvalProblem[]): bigint | undefined {
  switch (e.kind) {
    case 'number':
      // a null value was reported by the parser (malformed / above 2^64-1)
      return e.value === null ? undefined : e.value;
    case 'ref': {
      const v = env.lookup(e.name, e.range);
      if (v === 'undefined') {
        problems.push({ range: e.range, message: `undefined name '${e.name}'`, code: 'undefined-name' });
        return undefined;
      }
      return v;
    }
    case 'call': {
      const slot = evalNode(e.arg, env, problems);
      if (slot === undefined) return undefined;
      const f = e.callee.text === 'hva' ? env.hva : env.pa;
      return f ? f.call(env, slot, e.range) : undefined;
    }
    case 'paren':
      return evalNode(e.expr, env, problems);
    case 'unary': {
      const v = evalNode(e.operand, env, problems);
      if (v === undefined) return undefined;
      return e.op === '-' ? u64(-v) : u64(~v);
    }
    case 'binary': {
      const a = evalNode(e.left, env, problems);
      const b = evalNode(e.right, env, problems);
      if ((e.op === '/' || e.op === '%') && b === 0n) {
        problems.push({ range: e.right.range, message: 'division by zero', code: 'division' });
        return undefined;
      }
      if (a === undefined || b === undefined) return undefined;
      return binary(e.op, a, b);
    }
    case 'error':
      return undefined;
  }
}

/** One binary operator on 64-bit values (exported for the runner's breakpoint conditions and for tests). */
export function binary(op: string, a: bigint, b: bigint): bigint | undefined {
  switch (op) {
    case '*': return u64(a * b);
    case '/': return b === 0n ? undefined : a / b;
    case '%': return b === 0n ? undefined : a % b;
    case '+': return u64(a + b);
    case '-': return u64(a - b);
    case '<<': return b >= 64n ? 0n : u64(a << b);
    case '>>': return b >= 64n ? 0n : a >> b;
    case '&': return a & b;
    case '^': return a ^ b;
    case '|': return a | b;
    default: return undefined;
  }
}

/** `== != < <= > >=` on bit patterns, unsigned */
export function compare(op: string, a: bigint, b: bigint): boolean {
  const x = u64(a);
  const y = u64(b);
  switch (op) {
    case '==': return x === y;
    case '!=': return x !== y;
    case '<': return x < y;
    case '<=': return x <= y;
    case '>': return x > y;
    case '>=': return x >= y;
    default: return false;
  }
}

/** all names an expression refers to (for find-references / rename in the language server) */
export function refsOf(e: Expr, out: { name: string; range: Range }[] = []): { name: string; range: Range }[] {
  const stack: Expr[] = [e];
  while (stack.length) {
    const x = stack.pop()!;
    switch (x.kind) {
      case 'ref': out.push({ name: x.name, range: x.range }); break;
      case 'call': stack.push(x.arg); break;
      case 'paren': stack.push(x.expr); break;
      case 'unary': stack.push(x.operand); break;
      case 'binary': stack.push(x.right, x.left); break;
      default: break;
    }
  }
  return out;
}
