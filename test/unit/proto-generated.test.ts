// common/proto/generated/ must be what scripts/gen-proto.sh makes from proto/ today: stale types
// would compile and then lie about what is on the wire.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../common/project-root';

const root = projectRoot();
const committed = path.join(root, 'common/proto/generated');

function listFiles(dir: string, base = dir): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name))]))
    .sort();
}

describe('generated proto types', () => {
  let tmp: string;
  let fresh: string;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-gen-proto-'));
    fresh = path.join(tmp, 'generated');
    execFileSync('bash', [path.join(root, 'scripts/gen-proto.sh'), fresh], { cwd: root, stdio: 'pipe' });
  });

  afterAll(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('has the same files as a fresh generation (run scripts/gen-proto.sh when this fails)', () => {
    expect(listFiles(committed)).toEqual(listFiles(fresh));
  });

  it('has the same content in every file (run scripts/gen-proto.sh when this fails)', () => {
    const stale = listFiles(fresh).filter((f) => {
      const mine = path.join(committed, f);
      return !fs.existsSync(mine) || !fs.readFileSync(mine).equals(fs.readFileSync(path.join(fresh, f)));
    });
    expect(stale).toEqual([]);
    expect(listFiles(fresh).length).toBeGreaterThan(50);
  });
});
