/**
 * Headless Chromium (the Debian `chromium` package) for the dashboard test: the rendered DOM of a
 * page (--dump-dom) and a PNG screenshot. Each run gets its own profile directory and process
 * group, both removed afterwards (also on timeout). The page's timers run in virtual time
 * (--virtual-time-budget), so its 2 s polling happens a few times within the budget.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';

/** Installs the Debian package when the binary is missing; never skips. */
export function ensureChromium(): void {
  if (fs.existsSync(CHROMIUM)) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const [cmd, args] of [
    ['apt-get', ['update', '-qq']],
    ['apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium']],
  ] as Array<[string, string[]]>) {
    const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) {
      throw new Error(`${CHROMIUM} is missing and \`${cmd} ${args.join(' ')}\` failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}\nInstall the Debian package chromium (scripts/setup.sh does) to run this test.`);
    }
  }
  if (!fs.existsSync(CHROMIUM)) throw new Error(`apt-get install chromium succeeded but ${CHROMIUM} is still missing`);
}

export interface BrowserRun {
  stdout: string;
  stderr: string;
}

/** Runs headless Chromium on `url` with `extra` flags; rejects on a non-zero exit or after `timeoutMs`. */
export async function runChromium(url: string, extra: string[], timeoutMs = 60_000): Promise<BrowserRun> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ambit-chromium-'));
  const args = [
    '--headless=new',
    // Root cannot use Chromium's sandbox; the page is our own.
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-extensions',
    '--disable-background-networking',
    `--user-data-dir=${profile}`,
    '--window-size=1400,900',
    '--virtual-time-budget=7000',
    ...extra,
    url,
  ];
  const child = spawn(CHROMIUM, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const killGroup = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  try {
    return await new Promise<BrowserRun>((resolve, reject) => {
      const timer = setTimeout(() => {
        killGroup();
        reject(new Error(`chromium did not finish within ${timeoutMs} ms on ${url}\n${stderr.slice(-2000)}`));
      }, timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve({ stdout, stderr });
        else reject(new Error(`chromium exited with ${code} on ${url}\n${stderr.slice(-2000)}`));
      });
    });
  } finally {
    // Renderer and utility processes share the group: none outlives the run.
    killGroup();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** Width and height from a PNG's IHDR chunk; throws when `file` is not a PNG. */
export function pngSize(file: string): { width: number; height: number; bytes: number } {
  const b = fs.readFileSync(file);
  if (b.length < 24 || b.toString('latin1', 1, 4) !== 'PNG' || b.toString('latin1', 12, 16) !== 'IHDR') throw new Error(`${file} is not a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), bytes: b.length };
}

/** The attributes of every element `<tag ...>` in `html` whose attributes include `has`. */
export function elementsWith(html: string, tag: string, has: string): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  for (const m of html.matchAll(new RegExp(`<${tag}\\s([^>]*)>`, 'g'))) {
    const attrs: Record<string, string> = {};
    for (const a of m[1].matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)="([^"]*)"/g)) attrs[a[1]] = a[2].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    if (has in attrs) out.push(attrs);
  }
  return out;
}
