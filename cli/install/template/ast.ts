// The parsed form of a template: the node kinds of Go's text/template that Helm charts use.
import type { SourcePos } from '../errors';

export type Operand =
  /** `.` (fields []) or `.a.b`: fields of the current dot. */
  | { kind: 'dot'; fields: string[]; pos: SourcePos }
  /** `$` or `$x`, then optional fields. */
  | { kind: 'var'; name: string; fields: string[]; pos: SourcePos }
  /** A function name. */
  | { kind: 'func'; name: string; pos: SourcePos }
  | { kind: 'literal'; value: string | number | boolean | null; pos: SourcePos }
  /** `( pipeline )`, then optional fields. */
  | { kind: 'pipe'; pipe: Pipeline; fields: string[]; pos: SourcePos };

export interface Command {
  readonly args: Operand[];
  readonly pos: SourcePos;
}

export interface Pipeline {
  /** Variables declared (`:=`) or assigned (`=`) by this pipeline: `$x`, or `$i, $v` in range. */
  readonly vars: string[];
  readonly assign: boolean;
  readonly cmds: Command[];
  readonly pos: SourcePos;
}

export type Node =
  | { kind: 'text'; text: string; pos: SourcePos }
  | { kind: 'action'; pipe: Pipeline; pos: SourcePos }
  | { kind: 'if' | 'with'; pipe: Pipeline; body: Node[]; elseBody: Node[] | null; pos: SourcePos }
  | { kind: 'range'; pipe: Pipeline; body: Node[]; elseBody: Node[] | null; pos: SourcePos }
  /** `{{ template "name" pipeline }}`. */
  | { kind: 'template'; name: string; pipe: Pipeline | null; pos: SourcePos };

/** One parsed file: its body and the templates it `define`s. */
export interface ParsedTemplate {
  readonly file: string;
  readonly body: Node[];
  readonly defines: ReadonlyMap<string, Node[]>;
}
