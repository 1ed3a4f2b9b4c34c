// Where the Ambit checkout is: proto/, build/ and examples/ are found from here.
import fs from 'node:fs';
import path from 'node:path';

/** The repository root: the nearest directory up from here whose package.json is Ambit's. */
export function projectRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'ambit') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find Ambit's package.json above ${__dirname}`);
    dir = up;
  }
}
