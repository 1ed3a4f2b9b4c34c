// The chart renderer's Go-template subset, with real templates: trimming, comments, fields and
// variables, pipelines, if / else if / else, range over lists and maps, with, define / include /
// template, the functions charts use, and an error naming file:line for everything else.
import { InstallError } from '../../cli/install/errors';
import { TemplateSet } from '../../cli/install/template/evaluate';
import { parseTemplate } from '../../cli/install/template/parser';
import { GoStruct } from '../../cli/install/template/values';

const HELPERS = `{{/* Shared names. */}}
{{- define "t.fullname" -}}
{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 20 | trimSuffix "-" }}
{{- end }}
{{- define "t.labels" -}}
app: {{ include "t.fullname" . }}
version: {{ .Chart.AppVersion | quote }}
{{- end }}
`;

function run(template: string, values: Record<string, unknown> = {}, file = 'templates/t.yaml'): string {
  const set = new TemplateSet();
  set.add(parseTemplate(HELPERS, 'templates/_helpers.tpl'));
  const parsed = parseTemplate(template, file);
  set.add(parsed);
  const ctx = new GoStruct(
    'chartutil.Values',
    {
      Values: values,
      Release: new GoStruct('chartutil.Release', { Name: 'rel', Namespace: 'ns' }),
      Chart: new GoStruct('*chart.Metadata', { Name: 'ambit', Version: '1.2.3', AppVersion: '4.5' }),
    },
    { Files: '.Files is not supported by the renderer' },
  );
  return set.render(parsed, ctx);
}

const failure = (template: string, values: Record<string, unknown> = {}): string => {
  try {
    run(template, values);
  } catch (e) {
    expect(e).toBeInstanceOf(InstallError);
    expect((e as InstallError).code).toBe('AMBIT_ERR_INSTALL_TEMPLATE');
    return (e as Error).message;
  }
  throw new Error('rendered without error');
};

describe('rendering', () => {
  test('a Deployment-like template: includes, nindent, toYaml, with, range, quote', () => {
    const out = run(
      `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "t.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "t.labels" . | nindent 4 }}
spec:
  template:
    spec:
      containers:
        - name: main
          env:
            {{- range $name, $value := .Values.env }}
            - name: {{ $name }}
              value: {{ $value | quote }}
            {{- end }}
          {{- with .Values.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
`,
      { env: { B: 2, A: 'x y' }, resources: { requests: { memory: '1Gi', cpu: '100m' }, list: ['on', 1] } },
    );
    expect(out).toBe(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: rel-ambit
  namespace: ns
  labels:
    app: rel-ambit
    version: "4.5"
spec:
  template:
    spec:
      containers:
        - name: main
          env:
            - name: A
              value: "x y"
            - name: B
              value: "2"
          resources:
            list:
            - "on"
            - 1
            requests:
              cpu: 100m
              memory: 1Gi
`);
  });

  test('if / else if / else, and / or / not / eq / ne, with the values deciding', () => {
    const t = `{{ if and .Values.a (not .Values.b) }}one{{ else if or .Values.b (eq .Values.mode "x" "y") }}two{{ else }}three{{ end }}`;
    expect(run(t, { a: true })).toBe('one');
    expect(run(t, { a: true, b: 1 })).toBe('two');
    expect(run(t, { mode: 'y' })).toBe('two');
    expect(run(t, { mode: 'z', a: '' })).toBe('three');
    expect(run(`{{ if ne .Values.n 3 }}x{{ end }}{{ if .Values.empty }}y{{ else }}z{{ end }}`, { n: 4, empty: {} })).toBe('xz');
  });

  test('and / or stop at the deciding argument, as Go does (no nil pointer on the right)', () => {
    expect(run(`{{ if and .Values.a .Values.a.b }}yes{{ else }}no{{ end }}`, {})).toBe('no');
    expect(run(`{{ or .Values.a "fallback" }}`, {})).toBe('fallback');
  });

  test('trimming markers remove white space on their side only, comments print nothing', () => {
    expect(run(`a  {{- "b" -}}  c\n{{/* gone */}}d\n  {{- /* also gone */ -}}\n  e`)).toBe('abc\nde');
    expect(run(`{{-3}}`)).toBe('-3');
  });

  test('variables: $ is the root inside range and with, := declares, = assigns, scope ends with the block', () => {
    const t = `{{- $n := 0 -}}
{{- range .Values.items }}{{ $n = . }}{{ $.Release.Name }}:{{ . }} {{ end -}}
last={{ $n }}{{ with .Values.inner }}{{ $x := .v }} {{ $x }}{{ end }}`;
    expect(run(t, { items: ['a', 'b'], inner: { v: 'w' } })).toBe('rel:a rel:b last=b w');
    expect(failure(`{{ with .Values.inner }}{{ $x := 1 }}{{ end }}{{ $x }}`, { inner: 1 })).toBe('templates/t.yaml:1: undefined variable "$x"');
  });

  test('range: index and value of a list, sorted keys of a map, else when empty', () => {
    expect(run(`{{ range $i, $v := .Values.l }}{{ $i }}={{ $v }};{{ end }}`, { l: ['x', 'y'] })).toBe('0=x;1=y;');
    expect(run(`{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}`, { m: { z: 1, a: 2 } })).toBe('a=2;z=1;');
    expect(run(`{{ range .Values.none }}x{{ else }}empty{{ end }}`)).toBe('empty');
  });

  test('template and include with another dot; functions with piped and parenthesised arguments', () => {
    expect(run(`{{ template "t.fullname" . }}|{{ include "t.fullname" . | upper }}`)).toBe('rel-ambit|REL-AMBIT');
    expect(run(`{{ printf "%s:%d %q" (default "d" .Values.x) (mul (sub 30 5) 1000) "q" }}`)).toBe('d:25000 "q"');
    expect(run(`{{ .Values.s | default "x" | trimPrefix "a" | replace "-" "_" }} {{ list 1 2 | join "," }} {{ dict "k" "v" | toJson }}`, { s: 'ab-c' })).toBe('b_c 1,2 {"k":"v"}');
    expect(run(`{{ .Values.port }} {{ .Values.ratio }} {{ .Values.big }} {{ b64enc "ambit" }} {{ squote "x" }} {{ indent 2 "a\\nb" }}`, { port: 15021, ratio: 0.5, big: 1e21 })).toBe(
      '15021 0.5 1e+21 YW1iaXQ= \'x\'   a\n  b',
    );
  });

  test('required fails with its message at file:line; a missing map key prints nothing', () => {
    expect(failure(`a: 1\nb: {{ required "set .Values.name" .Values.name }}`)).toBe('templates/t.yaml:2: error calling required: set .Values.name');
    expect(run(`[{{ .Values.missing }}]`)).toBe('[]');
  });
});

describe('errors name the template file and line', () => {
  test.each([
    ['a field of a missing value', `ok\n\n{{ .Values.x.b }}`, 'templates/t.yaml:3: nil pointer evaluating .Values.x.b: .Values.x is not set'],
    ['a field of a number', `{{ .Values.a.b }}`, "templates/t.yaml:1: can't evaluate field b in type int (.Values.a)"],
    ['a function the renderer does not have', `{{ lookup "v1" "Pod" "" "" }}`, 'templates/t.yaml:1: function "lookup" is not supported by ambit\'s chart renderer'],
    ['.Files', `x\n{{ .Files.Get "conf" }}`, 'templates/t.yaml:2: .Files is not supported by the renderer'],
    ['block', `{{ block "x" . }}y{{ end }}`, 'templates/t.yaml:1: "block" is not supported by ambit\'s chart renderer'],
    ['break', `{{ range .Values.l }}{{ break }}{{ end }}`, 'templates/t.yaml:1: "break" is not supported'],
    ['else with', `{{ if .Values.a }}{{ else with .Values.b }}{{ end }}`, 'templates/t.yaml:1: "else with" is not supported'],
    ['an unclosed if', `a\n{{ if .Values.a }}\nb`, 'templates/t.yaml:2: {{if}} has no matching {{end}}'],
    ['a stray end', `{{ end }}`, 'templates/t.yaml:1: unexpected {{end}}'],
    ['an unclosed action', `a\n{{ .Values.a `, 'templates/t.yaml:2: unclosed action'],
    ['printing a map', `{{ .Values }}`, 'templates/t.yaml:1: cannot print a map; pipe it through toYaml'],
    ['an undefined template', `{{ include "nope" . }}`, 'templates/t.yaml:1: error calling include: no template "nope" is defined'],
    ['wrong argument count', `{{ quote }}{{ trunc 3 }}`, 'templates/t.yaml:1: wrong number of args for trunc: want 2 got 1'],
    ['an unknown field of .Release', `{{ .Release.Revisionn }}`, "templates/t.yaml:1: can't evaluate field Revisionn in type chartutil.Release"],
    ['arguments to a non-function', `{{ .Values.a "x" }}`, "templates/t.yaml:1: can't give argument to non-function .Values.a"],
    ['an unsupported printf verb', `{{ printf "%x" 3 }}`, 'templates/t.yaml:1: error calling printf: printf: verb %x is not supported'],
  ])('%s', (_what, template, message) => {
    expect(failure(template, { a: 1, l: [1] })).toContain(message);
  });

  test('an error inside an included template names the file of its define', () => {
    const set = new TemplateSet();
    set.add(parseTemplate(`{{- define "x" -}}\n{{ .missing.field }}\n{{- end }}`, 'templates/_x.tpl'));
    const t = parseTemplate(`{{ include "x" .Values }}`, 'templates/t.yaml');
    expect(() => set.render(t, new GoStruct('ctx', { Values: {} }))).toThrow('templates/_x.tpl:2: nil pointer evaluating .missing.field');
  });

  test('a template defined twice across files is refused', () => {
    const set = new TemplateSet();
    set.add(parseTemplate(`{{ define "x" }}a{{ end }}`, 'templates/_a.tpl'));
    expect(() => set.add(parseTemplate(`{{ define "x" }}b{{ end }}`, 'templates/_b.tpl'))).toThrow('template "x" is defined in both templates/_a.tpl and templates/_b.tpl');
  });
});
