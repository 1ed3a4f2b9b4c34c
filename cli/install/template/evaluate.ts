/**
 * Executes parsed templates with Go's text/template semantics: dot and `$`, variables scoped to
 * their control structure, pipelines (the previous result becomes the last argument), truth of
 * zero values, `range` over lists and over maps in sorted key order, `include` / `template` of
 * `define`d templates. Every failure is an InstallError naming file:line.
 */
import { InstallError, InstallErrorCodes, templateError, type SourcePos } from '../errors';
import type { Command, Node, Operand, ParsedTemplate, Pipeline } from './ast';
import { FunctionError, FUNCTIONS, SPECIAL_FORMS, supportedFunctionNames, type FunctionContext } from './functions';
import { GoStruct, isDict, printScalar, truth, typeName } from './values';

/** Go's limit on nested template calls, which stops runaway recursion. */
const MAX_DEPTH = 100;

interface Variable {
  name: string;
  value: unknown;
}

const NOT_PIPED = Symbol('not piped');

export class TemplateSet {
  private readonly defines = new Map<string, { file: string; body: Node[] }>();

  /** Registers a file's `define`s; a name defined in two files is an error (Helm would keep one silently). */
  add(parsed: ParsedTemplate): void {
    for (const [name, body] of parsed.defines) {
      const prev = this.defines.get(name);
      if (prev !== undefined) throw new InstallError(InstallErrorCodes.TEMPLATE, `template "${name}" is defined in both ${prev.file} and ${parsed.file}`);
      this.defines.set(name, { file: parsed.file, body });
    }
  }

  /** The output of a file's body with `data` as dot and `$`. */
  render(parsed: ParsedTemplate, data: unknown): string {
    return new Execution(this.defines).run(parsed.body, data, 0);
  }
}

class Execution implements FunctionContext {
  private vars: Variable[] = [];
  private depth = 0;

  constructor(private readonly defines: ReadonlyMap<string, { file: string; body: Node[] }>) {}

  run(body: Node[], data: unknown, depth: number): string {
    const saved = this.vars;
    const savedDepth = this.depth;
    this.vars = [{ name: '$', value: data }];
    this.depth = depth;
    try {
      const out: string[] = [];
      this.walk(body, data, out);
      return out.join('');
    } finally {
      this.vars = saved;
      this.depth = savedDepth;
    }
  }

  include(name: string, data: unknown): string {
    return this.call(name, data, undefined);
  }

  private call(name: string, data: unknown, pos: SourcePos | undefined): string {
    const def = this.defines.get(name);
    if (def === undefined) {
      const msg = `no template "${name}" is defined (defines live in templates/_*.tpl)`;
      if (pos) throw templateError(pos, msg);
      throw new FunctionError(msg);
    }
    if (this.depth >= MAX_DEPTH) throw new FunctionError(`exceeded maximum template depth (${MAX_DEPTH}) in "${name}"`);
    return this.run(def.body, data, this.depth + 1);
  }

  private walk(nodes: Node[], dot: unknown, out: string[]): void {
    for (const node of nodes) {
      switch (node.kind) {
        case 'text':
          out.push(node.text);
          break;
        case 'action': {
          const v = this.pipeline(node.pipe, dot);
          if (node.pipe.vars.length > 0) break; // a declaration prints nothing
          const s = printScalar(v);
          if (s === undefined) throw templateError(node.pos, `cannot print a ${typeName(v)}; pipe it through toYaml`);
          out.push(s);
          break;
        }
        case 'if':
        case 'with': {
          const mark = this.vars.length;
          const v = this.pipeline(node.pipe, dot);
          if (truth(v)) this.walk(node.body, node.kind === 'with' ? v : dot, out);
          else if (node.elseBody) this.walk(node.elseBody, dot, out);
          this.vars.length = mark;
          break;
        }
        case 'range':
          this.range(node, dot, out);
          break;
        case 'template': {
          const data = node.pipe ? this.pipeline(node.pipe, dot) : null;
          out.push(this.call(node.name, data, node.pos));
          break;
        }
      }
    }
  }

  private range(node: Extract<Node, { kind: 'range' }>, dot: unknown, out: string[]): void {
    const coll = this.value(node.pipe, dot);
    const mark = this.vars.length;
    let entries: Array<[unknown, unknown]>;
    if (Array.isArray(coll)) entries = coll.map((v, i) => [i, v]);
    else if (isDict(coll)) entries = Object.keys(coll).sort().map((k) => [k, coll[k]]);
    else if (coll === null || coll === undefined) entries = [];
    else throw templateError(node.pos, `range can't iterate over a ${typeName(coll)}`);
    if (entries.length === 0) {
      if (node.elseBody) this.walk(node.elseBody, dot, out);
      return;
    }
    const [first, second] = node.pipe.vars;
    for (const [k, v] of entries) {
      if (second !== undefined) this.vars.push({ name: first, value: k }, { name: second, value: v });
      else if (first !== undefined) this.vars.push({ name: first, value: v });
      this.walk(node.body, v, out);
      this.vars.length = mark;
    }
  }

  /** A pipeline's value, its variables declared or assigned. */
  private pipeline(pipe: Pipeline, dot: unknown): unknown {
    const v = this.value(pipe, dot);
    if (pipe.vars.length === 0) return v;
    const name = pipe.vars[0];
    if (pipe.assign) {
      const existing = [...this.vars].reverse().find((x) => x.name === name);
      if (existing === undefined) throw templateError(pipe.pos, `undefined variable "${name}"`);
      existing.value = v;
    } else {
      this.vars.push({ name, value: v });
    }
    return v;
  }

  private value(pipe: Pipeline, dot: unknown): unknown {
    let v: unknown = NOT_PIPED;
    for (const cmd of pipe.cmds) v = this.command(cmd, dot, v);
    return v;
  }

  private command(cmd: Command, dot: unknown, piped: unknown): unknown {
    const [first, ...rest] = cmd.args;
    if (first.kind !== 'func') {
      // Evaluated first, so `.Files.Get "x"` says .Files is not supported rather than "non-function".
      const v = this.operand(first, dot);
      if (rest.length > 0 || piped !== NOT_PIPED) throw templateError(cmd.pos, `can't give argument to non-function ${describe(first)}`);
      return v;
    }
    const name = first.name;
    if (SPECIAL_FORMS.has(name)) {
      // and/or evaluate their arguments one by one and stop at the deciding one (Go 1.18+).
      const thunks: Array<() => unknown> = rest.map((op) => () => this.operand(op, dot));
      if (piped !== NOT_PIPED) thunks.push(() => piped);
      if (thunks.length < 1) throw templateError(cmd.pos, `wrong number of args for ${name}: want at least 1 got 0`);
      let v: unknown;
      for (const t of thunks) {
        v = t();
        if (name === 'and' ? !truth(v) : truth(v)) return v;
      }
      return v;
    }
    const spec = FUNCTIONS.get(name);
    if (spec === undefined) {
      throw templateError(first.pos, `function "${name}" is not supported by ambit's chart renderer (supported: ${supportedFunctionNames().join(', ')})`);
    }
    const args = rest.map((op) => this.operand(op, dot));
    if (piped !== NOT_PIPED) args.push(piped);
    if (args.length < spec.min || args.length > spec.max) {
      const want = spec.min === spec.max ? `${spec.min}` : spec.max === Infinity ? `at least ${spec.min}` : `${spec.min}-${spec.max}`;
      throw templateError(cmd.pos, `wrong number of args for ${name}: want ${want} got ${args.length}`);
    }
    try {
      return spec.fn(args, this);
    } catch (e) {
      if (e instanceof FunctionError) throw templateError(cmd.pos, `error calling ${name}: ${e.message}`);
      throw e;
    }
  }

  private operand(op: Operand, dot: unknown): unknown {
    switch (op.kind) {
      case 'literal':
        return op.value;
      case 'dot':
        return this.fields(dot, op.fields, '', op.pos);
      case 'var': {
        const found = [...this.vars].reverse().find((x) => x.name === op.name);
        if (found === undefined) throw templateError(op.pos, `undefined variable "${op.name}"`);
        return this.fields(found.value, op.fields, op.name, op.pos);
      }
      case 'pipe':
        return this.fields(this.pipeline(op.pipe, dot), op.fields, '(...)', op.pos);
      case 'func':
        // A function name as an argument is called with no arguments.
        return this.command({ args: [op], pos: op.pos }, dot, NOT_PIPED);
    }
  }

  /** Follows `.a.b` from `v`; `base` names where v came from, for messages. */
  private fields(v: unknown, names: string[], base: string, pos: SourcePos): unknown {
    let cur = v;
    let expr = base;
    for (const name of names) {
      if (cur instanceof GoStruct) {
        if (Object.prototype.hasOwnProperty.call(cur.fields, name)) cur = cur.fields[name];
        else if (cur.unsupported[name] !== undefined) throw templateError(pos, cur.unsupported[name]);
        else throw templateError(pos, `can't evaluate field ${name} in type ${cur.typeName}`);
      } else if (isDict(cur)) {
        cur = Object.prototype.hasOwnProperty.call(cur, name) ? cur[name] : undefined;
      } else if (cur === null || cur === undefined) {
        throw templateError(pos, `nil pointer evaluating ${expr}.${name}: ${expr || '.'} is not set`);
      } else {
        throw templateError(pos, `can't evaluate field ${name} in type ${typeName(cur)} (${expr || '.'})`);
      }
      expr += `.${name}`;
    }
    return cur;
  }
}

function describe(op: Operand): string {
  switch (op.kind) {
    case 'dot':
      return op.fields.length ? `.${op.fields.join('.')}` : '.';
    case 'var':
      return op.name + op.fields.map((f) => `.${f}`).join('');
    case 'literal':
      return JSON.stringify(op.value);
    default:
      return '(...)';
  }
}
