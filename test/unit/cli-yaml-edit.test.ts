// `ambit label` edits the user's own YAML: only the Namespace's document changes, its comments and
// style survive, and every other document stays byte for byte as written.
import YAML from 'yaml';
import { editNamespaceLabels, namespaceYaml } from '../../cli/cluster/yaml-edit';

const FILE = `# Shop: the storefront team's namespace.
apiVersion: v1
kind: Namespace
metadata:
  name: shop   # do not rename: dashboards use it
  labels:
    team: retail   # owner
---
# The web service (hand-formatted on purpose).
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80,   targetPort: 8080}]
---
apiVersion: v1
kind: Namespace
metadata:
  name: guest
`;

const docs = (text: string): unknown[] => YAML.parseAllDocuments(text).map((d) => d.toJS());

describe('editNamespaceLabels', () => {
  it('adds a label in place: comments kept, other documents byte-identical', () => {
    const out = editNamespaceLabels(FILE, 'shop', { 'istio.io/dataplane-mode': 'ambient' })!;
    expect(out).toContain('# Shop: the storefront team\'s namespace.');
    expect(out).toContain('# do not rename: dashboards use it');
    expect(out).toContain('team: retail # owner');
    // Everything after the edited document is exactly as it was.
    const rest = FILE.slice(FILE.indexOf('---\n# The web service'));
    expect(out.endsWith(rest)).toBe(true);
    const [ns, svc, guest] = docs(out) as Array<{ metadata: { labels?: Record<string, string> } }>;
    expect(ns.metadata.labels).toEqual({ team: 'retail', 'istio.io/dataplane-mode': 'ambient' });
    expect(svc).toEqual(docs(FILE)[1]);
    expect(guest.metadata.labels).toBeUndefined();
  });

  it('--off removes the label and leaves the others', () => {
    const on = editNamespaceLabels(FILE, 'shop', { 'istio.io/dataplane-mode': 'ambient' })!;
    const off = editNamespaceLabels(on, 'shop', { 'istio.io/dataplane-mode': null })!;
    expect((docs(off)[0] as { metadata: { labels: unknown } }).metadata.labels).toEqual({ team: 'retail' });
    expect(off).toContain('# do not rename: dashboards use it');
    expect(off).not.toContain('dataplane-mode');
  });

  it('edits a later document without touching the earlier ones, adding a labels map it lacked', () => {
    const out = editNamespaceLabels(FILE, 'guest', { 'istio.io/dataplane-mode': 'ambient' })!;
    const head = FILE.slice(0, FILE.lastIndexOf('---\n'));
    expect(out.startsWith(head)).toBe(true);
    expect(out.slice(head.length)).toBe('---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: guest\n  labels:\n    istio.io/dataplane-mode: ambient\n');
  });

  it('keeps a flow map flow, with its padding', () => {
    const text = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: { team: retail }\n';
    expect(editNamespaceLabels(text, 'shop', { 'istio.io/use-waypoint': 'waypoint' })).toBe(
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: { team: retail, istio.io/use-waypoint: waypoint }\n',
    );
    const tight = 'kind: Namespace\nmetadata: {name: shop, labels: {team: retail}}\n';
    expect(editNamespaceLabels(tight, 'shop', { a: 'b' })).toBe('kind: Namespace\nmetadata: {name: shop, labels: {team: retail, a: b}}\n');
  });

  it('fills `labels:` with nothing after it', () => {
    const text = 'kind: Namespace\nmetadata:\n  name: shop\n  labels:\n';
    expect(docs(editNamespaceLabels(text, 'shop', { a: 'b' })!)).toEqual([{ kind: 'Namespace', metadata: { name: 'shop', labels: { a: 'b' } } }]);
  });

  it('finds the Namespace inside a kind: List', () => {
    const text = 'apiVersion: v1\nkind: List\nitems:\n  - kind: Namespace\n    metadata: { name: other }\n  - kind: Namespace\n    metadata: { name: shop }\n';
    const out = docs(editNamespaceLabels(text, 'shop', { a: 'b' })!)[0] as { items: Array<{ metadata: { labels?: unknown } }> };
    expect(out.items[0].metadata.labels).toBeUndefined();
    expect(out.items[1].metadata.labels).toEqual({ a: 'b' });
  });

  it('is undefined when the file does not define that Namespace', () => {
    expect(editNamespaceLabels(FILE, 'web', { a: 'b' })).toBeUndefined();
    expect(editNamespaceLabels('', 'shop', { a: 'b' })).toBeUndefined();
  });

  it('refuses a file with a YAML syntax error', () => {
    expect(() => editNamespaceLabels('kind: Namespace\nmetadata: {name: shop\n', 'shop', { a: 'b' })).toThrow(/YAML syntax error/);
  });
});

describe('namespaceYaml (a namespace with objects but no Namespace object gets a file)', () => {
  it('is a Namespace with the labels and a comment saying where it came from', () => {
    const text = namespaceYaml('shop', { 'istio.io/dataplane-mode': 'ambient' }, 'written by `ambit label`');
    expect(text.startsWith('# written by `ambit label`\n')).toBe(true);
    expect(YAML.parse(text)).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'istio.io/dataplane-mode': 'ambient' } } });
  });
});
