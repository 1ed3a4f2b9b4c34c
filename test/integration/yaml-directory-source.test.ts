// The YAML directory source against a real temporary directory and real fs.watch events.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { ControlPlaneErrorCodes } from '../../control-plane/errors';
import { objectKey, type KubeObject } from '../../control-plane/kube/objects';
import type { ConfigProblem, SourceChanges, SourceSink } from '../../control-plane/sources/source';
import { YamlDirectorySource } from '../../control-plane/sources/yaml-directory-source';

/** Records what the source delivers and lets a test wait for a condition on it. */
class RecordingSink implements SourceSink {
  readonly applies: SourceChanges[] = [];
  readonly problemLists: Array<readonly ConfigProblem[]> = [];
  readonly objects = new Map<string, KubeObject>();
  syncedCalls = 0;
  appliesAtSync = -1;
  private waiters: Array<() => void> = [];

  apply(changes: SourceChanges): void {
    this.applies.push(changes);
    for (const o of changes.upsert) this.objects.set(objectKey(o), o);
    for (const k of changes.remove) this.objects.delete(k);
    this.notify();
  }

  problems(list: readonly ConfigProblem[]): void {
    this.problemLists.push(list);
    this.notify();
  }

  synced(): void {
    this.syncedCalls++;
    this.appliesAtSync = this.applies.length;
  }

  get currentProblems(): readonly ConfigProblem[] {
    return this.problemLists[this.problemLists.length - 1] ?? [];
  }

  /** Resolves once `cond` holds (checked after every delivery); fails after `timeoutMs`. */
  async until(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
    if (cond()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = (): void => {
        if (!cond()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const pod = (name: string, extra = ''): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  containers:
  - name: app
    image: example/${name}:1${extra}
`;

const service = (name: string, port: number | string, ns = 'shop'): string => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  selector: {app: ${name}}
  ports:
  - name: http
    port: ${port}
`;

const roots: string[] = [];
const sources: YamlDirectorySource[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-yaml-source-'));
  roots.push(dir);
  return dir;
}

function write(dir: string, rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), text);
}

async function started(dir: string, logger?: pino.Logger): Promise<{ source: YamlDirectorySource; sink: RecordingSink }> {
  const source = new YamlDirectorySource({ dir, logger });
  sources.push(source);
  const sink = new RecordingSink();
  await source.start(sink);
  return { source, sink };
}

afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
});

afterAll(() => {
  for (const dir of roots) fs.rmSync(dir, { recursive: true, force: true });
});

describe('YamlDirectorySource', () => {
  it('loads every YAML file of the tree in path order, then reports synced', async () => {
    const dir = tempDir();
    write(dir, 'a.yaml', `${pod('web')}---\n---\n${service('web', 80)}`); // an empty document in between
    write(dir, 'nested/deeper/b.yml', pod('api').replace('metadata:\n', 'metadata:\n  annotations:\n')); // null = unset
    write(dir, 'list.yaml', `apiVersion: v1\nkind: List\nitems:\n- ${service('cart', 8080).replace(/\n/g, '\n  ')}`);
    write(dir, 'README.md', 'not config');
    write(dir, '.editor-temp.yaml', pod('ghost')); // hidden: editors' temp files
    const { source, sink } = await started(dir);

    expect(source.name).toBe(`yaml:${dir}`);
    expect(sink.syncedCalls).toBe(1);
    expect(sink.appliesAtSync).toBe(1);
    expect(sink.applies[0].remove).toEqual([]);
    // a.yaml, list.yaml, nested/deeper/b.yml; namespaces defaulted for namespaced kinds.
    expect(sink.applies[0].upsert.map(objectKey)).toEqual(['Pod/default/web', 'Service/shop/web', 'Service/shop/cart', 'Pod/default/api']);
    expect(sink.currentProblems).toEqual([]);
    expect(Object.isFrozen(sink.objects.get('Pod/default/web')?.metadata)).toBe(true);
    expect(sink.objects.get('Pod/default/api')?.metadata).not.toHaveProperty('annotations');
  });

  it('locates problems inside a List by item, and ignores a namespace on a cluster-scoped kind', async () => {
    const dir = tempDir();
    const list = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: shop
    namespace: default
- apiVersion: v1
  kind: ServiceAccount
  metadata:
    name: Cart
`;
    write(dir, 'list.yaml', list);
    const { sink } = await started(dir);
    expect([...sink.objects.keys()]).toEqual(['Namespace//shop']);
    expect(sink.objects.get('Namespace//shop')?.metadata.namespace).toBeUndefined();
    expect(sink.currentProblems).toMatchObject([
      { severity: 'warning', document: 1, line: 8, field: '/items/0/metadata/namespace', kind: 'Namespace', message: 'ignored: Namespace is cluster-scoped' },
      { severity: 'error', document: 1, line: 12, field: '/items/1/metadata/name', kind: 'ServiceAccount', namespace: 'default', name: 'Cart' },
    ]);
  });

  it('delivers an edit within 1 s, only for the object that changed', async () => {
    const dir = tempDir();
    write(dir, 'shop.yaml', `${service('web', 80)}---\n${service('cart', 8080)}`);
    const { sink } = await started(dir);

    const t0 = performance.now();
    write(dir, 'shop.yaml', `${service('web', 81)}---\n${service('cart', 8080)}`);
    await sink.until(() => sink.applies.length === 2, 'the edit');
    const latencyMs = performance.now() - t0;

    expect(latencyMs).toBeLessThan(1000);
    console.log(`yaml source: edit -> sink.apply in ${latencyMs.toFixed(1)} ms`);
    expect(sink.applies[1].upsert.map(objectKey)).toEqual(['Service/shop/web']); // cart unchanged, not re-sent
    expect(sink.applies[1].remove).toEqual([]);
    expect((sink.objects.get('Service/shop/web')?.spec as { ports: Array<{ port: number }> }).ports[0].port).toBe(81);
  });

  it('an invalid edit is a problem naming file, document, line and field; the previous object stays', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'shop.yaml');
    write(dir, 'shop.yaml', `${service('web', 80)}---\n${service('cart', 8080)}`);
    const { sink } = await started(dir);

    write(dir, 'shop.yaml', `${service('web', 80)}---\n${service('cart', 70000)}`);
    await sink.until(() => sink.currentProblems.length > 0, 'the problem');
    expect(sink.currentProblems).toEqual([
      {
        severity: 'error',
        source: `yaml:${dir}`,
        file,
        document: 2,
        line: 21, // "    port: 70000" in the second document
        kind: 'Service',
        namespace: 'shop',
        name: 'cart',
        field: '/spec/ports/0/port',
        message: 'must be <= 65535; got 70000',
      },
    ]);
    expect(sink.applies).toHaveLength(1); // nothing upserted, nothing removed
    expect((sink.objects.get('Service/shop/cart')?.spec as { ports: Array<{ port: number }> }).ports[0].port).toBe(8080);

    write(dir, 'shop.yaml', `${service('web', 80)}---\n${service('cart', 8081)}`);
    await sink.until(() => sink.currentProblems.length === 0, 'the problem to clear');
    expect(sink.applies[sink.applies.length - 1]).toEqual({ upsert: [sink.objects.get('Service/shop/cart')], remove: [] });
    expect((sink.objects.get('Service/shop/cart')?.spec as { ports: Array<{ port: number }> }).ports[0].port).toBe(8081);
  });

  it('an unknown field is reported at its own line and path', async () => {
    const dir = tempDir();
    write(dir, 'web.yaml', pod('web'));
    const { sink } = await started(dir);
    write(dir, 'web.yaml', pod('web', '\n    imagePullPolcy: Always'));
    await sink.until(() => sink.currentProblems.length > 0, 'the problem');
    expect(sink.currentProblems).toMatchObject([
      { document: 1, line: 10, field: '/spec/containers/0/imagePullPolcy', message: 'unknown field "imagePullPolcy"; did you mean "imagePullPolicy"?' },
    ]);
    expect(sink.objects.has('Pod/default/web')).toBe(true);
  });

  it('a YAML syntax error keeps every object of the file until it parses again', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'pods.yaml');
    write(dir, 'pods.yaml', `${pod('web')}---\n${pod('api')}`);
    const { sink } = await started(dir);

    write(dir, 'pods.yaml', `${pod('web')}---\n${pod('api')}  bad: [\n`);
    await sink.until(() => sink.currentProblems.length > 0, 'the syntax problem');
    const [problem] = sink.currentProblems;
    expect(problem).toMatchObject({ severity: 'error', file, document: 2 });
    expect(problem.line).toBeGreaterThanOrEqual(18);
    expect(problem.message).toMatch(/^YAML syntax error: .*; the objects last loaded from this file stay in effect until it parses$/);
    expect(sink.applies).toHaveLength(1);
    expect([...sink.objects.keys()]).toEqual(['Pod/default/web', 'Pod/default/api']);

    write(dir, 'pods.yaml', pod('web'));
    await sink.until(() => sink.currentProblems.length === 0 && sink.applies.length === 2, 'the fix');
    expect(sink.applies[1]).toEqual({ upsert: [], remove: ['Pod/default/api'] });
  });

  it('deleting a file, or a directory of files, removes their objects', async () => {
    const dir = tempDir();
    write(dir, 'a.yaml', pod('a'));
    write(dir, 'team/b.yaml', pod('b'));
    write(dir, 'team/c.yaml', pod('c'));
    const { sink } = await started(dir);

    fs.rmSync(path.join(dir, 'a.yaml'));
    await sink.until(() => sink.applies.length === 2, 'the removal');
    expect(sink.applies[1]).toEqual({ upsert: [], remove: ['Pod/default/a'] });

    fs.rmSync(path.join(dir, 'team'), { recursive: true });
    await sink.until(() => sink.objects.size === 0, 'the directory removal');
    expect(sink.applies.slice(2).flatMap((a) => a.remove).sort()).toEqual(['Pod/default/b', 'Pod/default/c']);
  });

  it('picks up files in a new subdirectory', async () => {
    const dir = tempDir();
    const { sink } = await started(dir);
    expect(sink.applies[0]).toEqual({ upsert: [], remove: [] });
    write(dir, 'new/team/x.yaml', pod('x'));
    await sink.until(() => sink.objects.has('Pod/default/x'), 'the new file');
  });

  it('the same object defined twice: the first by path order wins, the later one is a problem', async () => {
    const dir = tempDir();
    write(dir, 'a.yaml', service('web', 80));
    write(dir, 'b.yaml', `${pod('other')}---\n${service('web', 81)}`);
    const { sink } = await started(dir);

    expect((sink.objects.get('Service/shop/web')?.spec as { ports: Array<{ port: number }> }).ports[0].port).toBe(80);
    expect(sink.currentProblems).toEqual([
      expect.objectContaining({
        file: path.join(dir, 'b.yaml'),
        document: 2,
        line: 11,
        kind: 'Service',
        namespace: 'shop',
        name: 'web',
        message: `duplicate Service shop/web: already defined in ${path.join(dir, 'a.yaml')} (document 1, line 1); this definition is ignored`,
      }),
    ]);

    fs.rmSync(path.join(dir, 'a.yaml'));
    await sink.until(() => sink.currentProblems.length === 0, 'the duplicate to resolve');
    expect(sink.applies[sink.applies.length - 1].remove).toEqual([]);
    expect((sink.objects.get('Service/shop/web')?.spec as { ports: Array<{ port: number }> }).ports[0].port).toBe(81);
  });

  it("handles an editor's atomic rename-save without removing anything in between", async () => {
    const dir = tempDir();
    write(dir, 'web.yaml', pod('web'));
    const { sink } = await started(dir);

    const temp = path.join(dir, '.web.yaml.swp');
    fs.writeFileSync(temp, pod('web', '\n    workingDir: /srv'));
    fs.renameSync(temp, path.join(dir, 'web.yaml'));
    await sink.until(() => sink.applies.length === 2, 'the saved edit');
    expect(sink.applies[1].upsert.map(objectKey)).toEqual(['Pod/default/web']);
    await sleep(200);
    expect(sink.applies.flatMap((a) => a.remove)).toEqual([]);
    expect((sink.objects.get('Pod/default/web')?.spec as { containers: Array<{ workingDir?: string }> }).containers[0].workingDir).toBe('/srv');
  });

  it('sees every later edit of a file an editor replaced by rename, in place or by rename again', async () => {
    const dir = tempDir();
    write(dir, 'web.yaml', pod('web'));
    write(dir, 'team/api.yaml', pod('api'));
    const { sink } = await started(dir);
    const workingDir = (name: string): string | undefined =>
      (sink.objects.get(`Pod/default/${name}`)?.spec as { containers: Array<{ workingDir?: string }> } | undefined)?.containers[0].workingDir;
    for (const file of ['web.yaml', 'team/api.yaml']) {
      const name = path.basename(file, '.yaml');
      const target = path.join(dir, file);
      const temp = path.join(path.dirname(target), `.${name}.swp`);
      fs.writeFileSync(temp, pod(name, '\n    workingDir: /one'));
      fs.renameSync(temp, target);
      await sink.until(() => workingDir(name) === '/one', `${file}: the rename-save`);
      // Node 20's recursive fs.watch on Linux lost the file here (it watched the old inode).
      fs.writeFileSync(target, pod(name, '\n    workingDir: /two'));
      await sink.until(() => workingDir(name) === '/two', `${file}: an in-place edit after the rename`);
      fs.writeFileSync(temp, pod(name, '\n    workingDir: /three'));
      fs.renameSync(temp, target);
      await sink.until(() => workingDir(name) === '/three', `${file}: a second rename-save`);
    }
  });

  it('an invalid document keeps serving the previous version of its object even when the name breaks', async () => {
    const dir = tempDir();
    write(dir, 'web.yaml', pod('web'));
    const { sink } = await started(dir);
    write(dir, 'web.yaml', pod('Web_1'));
    await sink.until(() => sink.currentProblems.length > 0, 'the problem');
    expect(sink.currentProblems[0]).toMatchObject({ field: '/metadata/name', line: 4, name: 'Web_1' });
    expect([...sink.objects.keys()]).toEqual(['Pod/default/web']);
    expect(sink.applies).toHaveLength(1);
  });

  it('logs each problem once, as a warning with the problem fields', async () => {
    const dir = tempDir();
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    write(dir, 'bad.yaml', service('web', 0));
    write(dir, 'good.yaml', pod('a'));
    const { sink } = await started(dir, pino({ level: 'warn' }, stream));
    write(dir, 'good.yaml', pod('b')); // another reload; the problem in bad.yaml is unchanged
    await sink.until(() => sink.objects.has('Pod/default/b'), 'the edit');

    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ file: path.join(dir, 'bad.yaml'), document: 1, line: 10, field: '/spec/ports/0/port', kind: 'Service', msg: 'must be >= 1; got 0' });
    expect(sink.problemLists.length).toBeGreaterThanOrEqual(2); // the full list after every reload
  });

  it('follows a Kubernetes ConfigMap volume update (the ..data symlink swap)', async () => {
    const dir = tempDir();
    write(dir, '..2024_01_01/web.yaml', pod('web'));
    fs.symlinkSync('..2024_01_01', path.join(dir, '..data'));
    fs.symlinkSync('..data/web.yaml', path.join(dir, 'web.yaml'));
    const { sink } = await started(dir);
    expect([...sink.objects.keys()]).toEqual(['Pod/default/web']); // read once, not also via ..data

    // The kubelet's atomic writer: new timestamped dir, new symlink renamed over ..data.
    write(dir, '..2024_01_02/web.yaml', pod('web', '\n    workingDir: /v2'));
    fs.symlinkSync('..2024_01_02', path.join(dir, '..data_tmp'));
    fs.renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    fs.rmSync(path.join(dir, '..2024_01_01'), { recursive: true });
    await sink.until(() => sink.applies.length === 2, 'the ConfigMap update');
    expect(sink.applies[1].upsert.map(objectKey)).toEqual(['Pod/default/web']);
    expect((sink.objects.get('Pod/default/web')?.spec as { containers: Array<{ workingDir?: string }> }).containers[0].workingDir).toBe('/v2');
  });

  it('keeps serving when the directory disappears, and reloads when it is back', async () => {
    const dir = tempDir();
    const root = path.join(dir, 'config');
    write(root, 'web.yaml', pod('web'));
    const { sink } = await started(root);

    fs.rmSync(root, { recursive: true });
    await sink.until(() => sink.currentProblems.some((p) => p.message.startsWith('config directory disappeared')), 'the problem');
    expect(sink.applies.flatMap((a) => a.remove)).toEqual([]);

    write(root, 'api.yaml', pod('api'));
    await sink.until(() => sink.objects.has('Pod/default/api') && sink.currentProblems.length === 0, 'the reload', 4000);
    expect(sink.objects.has('Pod/default/web')).toBe(false);
    write(root, 'api.yaml', pod('api', '\n    workingDir: /again'));
    await sink.until(
      () => (sink.objects.get('Pod/default/api')?.spec as { containers: Array<{ workingDir?: string }> }).containers[0].workingDir === '/again',
      'an edit after the watch was re-established',
    );
  });

  it('stop() stops watching', async () => {
    const dir = tempDir();
    write(dir, 'web.yaml', pod('web'));
    const { source, sink } = await started(dir);
    await source.stop();
    await source.stop(); // idempotent
    write(dir, 'web.yaml', pod('web', '\n    workingDir: /srv'));
    write(dir, 'api.yaml', pod('api'));
    await sleep(300);
    expect(sink.applies).toHaveLength(1);
    expect(sink.problemLists).toHaveLength(1);
  });

  it('rejects with SOURCE_UNAVAILABLE when the directory is missing or is a file', async () => {
    const dir = tempDir();
    const missing = path.join(dir, 'nope');
    await expect(new YamlDirectorySource({ dir: missing }).start(new RecordingSink())).rejects.toMatchObject({
      code: ControlPlaneErrorCodes.SOURCE_UNAVAILABLE,
      message: expect.stringContaining(`config directory ${missing} does not exist`),
    });
    write(dir, 'file.yaml', pod('x'));
    await expect(new YamlDirectorySource({ dir: path.join(dir, 'file.yaml') }).start(new RecordingSink())).rejects.toMatchObject({
      code: ControlPlaneErrorCodes.SOURCE_UNAVAILABLE,
      message: expect.stringContaining('is not a directory'),
    });
  });
});
