/**
 * Writes the configuration reference under docs/reference/:
 *   node dist/tools/config-reference/main.js           # (re)generate
 *   node dist/tools/config-reference/main.js --check   # exit 1 when the committed files are stale
 */
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../common/project-root';
import { generateReference, REGENERATE_COMMAND } from './reference';

function main(argv: readonly string[]): number {
  const check = argv.includes('--check');
  const root = projectRoot();
  let stale = 0;
  for (const file of generateReference().files) {
    const full = path.join(root, file.path);
    const current = fs.existsSync(full) ? fs.readFileSync(full, 'utf8') : undefined;
    if (current === file.content) {
      console.log(`${file.path}: up to date`);
    } else if (check) {
      console.error(`${file.path}: stale; run \`${REGENERATE_COMMAND}\``);
      stale++;
    } else {
      fs.mkdirSync(path.dirname(full), { recursive: true });
      fs.writeFileSync(full, file.content);
      console.log(`${file.path}: written`);
    }
  }
  return stale > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
