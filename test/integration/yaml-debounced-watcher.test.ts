// The config directory watcher on a real temporary tree: one watch per directory, a subdirectory
// that cannot be watched does not stop the others.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DebouncedWatcher, type ChangeBatch } from '../../control-plane/sources/yaml/debounced-watcher';

const until = async (what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('DebouncedWatcher', () => {
  const dirs: string[] = [];
  const watchers: DebouncedWatcher[] = [];
  afterEach(() => {
    jest.restoreAllMocks();
    for (const w of watchers.splice(0)) w.close();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  const setup = (failFor?: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-watch-'));
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, 'team'));
    fs.mkdirSync(path.join(dir, 'locked'));
    const batches: ChangeBatch[] = [];
    const errors: Error[] = [];
    const subErrors: string[] = [];
    if (failFor !== undefined) {
      const real = fs.watch;
      jest.spyOn(fs, 'watch').mockImplementation(((p: fs.PathLike, ...rest: unknown[]) => {
        if (String(p).endsWith(`${path.sep}${failFor}`)) throw Object.assign(new Error(`EACCES: permission denied, watch '${String(p)}'`), { code: 'EACCES' });
        return (real as (...a: unknown[]) => fs.FSWatcher)(p, ...rest);
      }) as typeof fs.watch);
    }
    const w = new DebouncedWatcher(dir, 20, (b) => batches.push(b), (e) => errors.push(e), (d) => subErrors.push(d));
    watchers.push(w);
    w.start();
    const changed = (): string[] => batches.flatMap((b) => [...b.paths]);
    return { dir, batches, errors, subErrors, changed };
  };

  it('reports edits in the root, in subdirectories and in a subdirectory created later', async () => {
    const { dir, changed } = setup();
    fs.writeFileSync(path.join(dir, 'a.yaml'), 'a');
    fs.writeFileSync(path.join(dir, 'team', 'b.yaml'), 'b');
    await until('root and subdirectory edits', () => changed().includes('a.yaml') && changed().includes(path.join('team', 'b.yaml')));
    fs.mkdirSync(path.join(dir, 'later'));
    await until('the new directory', () => changed().includes('later'));
    await new Promise((r) => setTimeout(r, 50)); // its watch is set up on the event
    fs.writeFileSync(path.join(dir, 'later', 'c.yaml'), 'c');
    await until('an edit inside the new directory', () => changed().includes(path.join('later', 'c.yaml')));
  });

  it('a subdirectory that cannot be watched is reported apart, and every other directory is still watched', async () => {
    const { dir, errors, subErrors, changed } = setup('locked');
    expect(subErrors).toEqual(['locked']);
    fs.writeFileSync(path.join(dir, 'a.yaml'), 'a');
    fs.writeFileSync(path.join(dir, 'team', 'b.yaml'), 'b');
    await until('edits elsewhere', () => changed().includes('a.yaml') && changed().includes(path.join('team', 'b.yaml')));
    expect(errors).toEqual([]);
  });
});
