#!/usr/bin/env node
// Runs the jest tiers one after another (unit, integration, native, privileged), each in its own
// process group with a wall-clock limit, then prints one summary. The last line of output is always
// `N passed, N failed[, N skipped]`, and a tier that crashed, timed out or found no tests counts as
// failed, so a broken tier can never look green.
//
//   node scripts/run-tests.js [--tier unit[,native]]... [extra jest args]
//   env: AMBIT_TIER_TIMEOUT_S (default 900), CI=true (a skipped privileged test counts as failed)
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const TIERS = ['unit', 'integration', 'native', 'privileged'];
const RESULTS_DIR = path.join(ROOT, 'test-results');
const JEST_BIN = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
const DEFAULT_TIMEOUT_S = 900;
const KILL_GRACE_MS = 5000;
const IN_CI = /^(1|true|yes)$/i.test(process.env.CI || '');

function usage(message) {
  if (message) console.error(`run-tests: ${message}`);
  console.error(
    'usage: node scripts/run-tests.js [--tier <name>[,<name>...]]... [jest args]\n' +
      `  tiers: ${TIERS.join(', ')} (default: all, in that order)`,
  );
  process.exit(2);
}

function parseArgs(argv) {
  const selected = new Set();
  const passthrough = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let value;
    if (arg === '--tier' || arg === '--tiers') {
      value = argv[++i];
      if (value === undefined) usage(`${arg} needs a value`);
    } else if (arg.startsWith('--tier=') || arg.startsWith('--tiers=')) {
      value = arg.slice(arg.indexOf('=') + 1);
    } else if (arg === '-h' || arg === '--help') {
      usage();
    } else {
      passthrough.push(arg);
      continue;
    }
    for (const name of value.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (name === 'all') TIERS.forEach((t) => selected.add(t));
      else if (TIERS.includes(name)) selected.add(name);
      else usage(`unknown tier '${name}'`);
    }
  }
  // Always run in the canonical order, whatever order they were given in.
  const tiers = selected.size ? TIERS.filter((t) => selected.has(t)) : TIERS.slice();
  return { tiers, passthrough };
}

function tierTimeoutMs() {
  const raw = process.env.AMBIT_TIER_TIMEOUT_S;
  if (raw === undefined || raw === '') return DEFAULT_TIMEOUT_S * 1000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`run-tests: ignoring AMBIT_TIER_TIMEOUT_S=${raw} (not a positive number); using ${DEFAULT_TIMEOUT_S}`);
    return DEFAULT_TIMEOUT_S * 1000;
  }
  return n * 1000;
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

let current = null; // { child, pgid } of the running tier
let interrupted = null; // signal name when the runner itself was asked to stop

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = sig;
    console.error(`\nrun-tests: ${sig} received; stopping the running tier`);
    // The tier runs in its own process group (detached), so the terminal's signal does not reach it.
    if (current) {
      killGroup(current.pgid, 'SIGTERM');
      const { pgid } = current;
      setTimeout(() => killGroup(pgid, 'SIGKILL'), KILL_GRACE_MS).unref();
    }
  });
}

function runTier(tier, passthrough, timeoutMs) {
  const outputFile = path.join(RESULTS_DIR, `${tier}.json`);
  fs.rmSync(outputFile, { force: true }); // a stale file must never stand in for this run
  const args = [JEST_BIN, '--selectProjects', tier, '--json', '--outputFile', outputFile];
  if (tier === 'privileged') args.push('--runInBand');
  args.push(...passthrough);

  console.log(`\n=== tier ${tier} (limit ${Math.round(timeoutMs / 1000)} s) ===`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'inherit', detached: true });
    const pgid = child.pid;
    current = { child, pgid };
    let timedOut = false;
    let killTimer = null;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`\nrun-tests: tier ${tier} exceeded ${Math.round(timeoutMs / 1000)} s; killing process group ${pgid}`);
      killGroup(pgid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(pgid, 'SIGKILL'), KILL_GRACE_MS);
    }, timeoutMs);

    const finish = (code, signal, spawnError) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      current = null;
      // Whatever the tier left running (servers, helpers) must not outlive it: it would hold the
      // terminal/pipe open and leak into the next tier.
      let leftovers = false;
      if (pgid && groupAlive(pgid)) {
        leftovers = true;
        killGroup(pgid, 'SIGKILL');
      }
      resolve({
        tier,
        outputFile,
        code,
        signal,
        spawnError,
        timedOut,
        leftovers,
        seconds: (Date.now() - started) / 1000,
      });
    };
    child.once('error', (err) => finish(null, null, err));
    child.once('exit', (code, signal) => finish(code, signal, null));
  });
}

function readResults(file) {
  try {
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    return json && typeof json === 'object' ? json : null;
  } catch {
    return null;
  }
}

// Mirrors jest.config.js's testMatch: <rootDir>/test/<tier>/**/*.test.ts
function hasTestFiles(tier) {
  const walk = (dir) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return false;
    }
    return entries.some((e) =>
      e.isDirectory() ? e.name !== 'node_modules' && walk(path.join(dir, e.name)) : e.name.endsWith('.test.ts'),
    );
  };
  return walk(path.join(ROOT, 'test', tier));
}

function tally(run) {
  const notes = [];
  const json = readResults(run.outputFile);
  let passed = 0;
  let failed = 0;
  let skipped = 0;

  if (run.spawnError) notes.push(`could not start jest: ${run.spawnError.message}`);
  if (run.timedOut) notes.push(`timed out and was killed (AMBIT_TIER_TIMEOUT_S)`);
  else if (run.signal) notes.push(`jest was killed by ${run.signal}`);
  if (run.leftovers) notes.push('left processes running in its process group; they were killed');

  if (json) {
    passed = json.numPassedTests || 0;
    failed = (json.numFailedTests || 0) + (json.numRuntimeErrorTestSuites || 0);
    skipped = (json.numPendingTests || 0) + (json.numTodoTests || 0);
    if (json.numRuntimeErrorTestSuites) {
      notes.push(`${json.numRuntimeErrorTestSuites} test file(s) failed to run (counted as failed)`);
    }
  }

  if (run.tier === 'privileged' && IN_CI && skipped > 0) {
    notes.push(`${skipped} skipped test(s) counted as failed: privileged tests must not skip in CI`);
    failed += skipped;
    skipped = 0;
  }

  const exitedBadly = run.code !== 0; // includes null (signal / timeout / spawn error)
  if (json && (json.numTotalTests || 0) === 0 && (json.numRuntimeErrorTestSuites || 0) === 0) {
    notes.push(`no tests found under test/${run.tier}/ (counted as 1 failure)`);
    if (failed === 0) failed = 1;
  } else if (!json && run.code === 1 && !hasTestFiles(run.tier)) {
    // Without --passWithNoTests jest exits 1 and writes no results when nothing matches.
    notes.push(`no tests found under test/${run.tier}/ (counted as 1 failure)`);
    failed += 1;
  } else if (!json) {
    const how = run.timedOut || run.signal || run.spawnError ? 'did not finish' : `exited with code ${run.code}`;
    notes.push(`jest ${how} and wrote no ${path.relative(ROOT, run.outputFile)} (see its output above; counted as 1 failure)`);
    failed += 1;
  } else if (exitedBadly && failed === 0) {
    notes.push(`jest exited with ${run.signal || `code ${run.code}`} although no test failed (counted as 1 failure)`);
    failed += 1;
  }
  return { tier: run.tier, passed, failed, skipped, notes, seconds: run.seconds };
}

async function main() {
  const { tiers, passthrough } = parseArgs(process.argv.slice(2));
  const timeoutMs = tierTimeoutMs();
  fs.mkdirSync(RESULTS_DIR, { recursive: true });

  const results = [];
  let missingJest = !fs.existsSync(JEST_BIN);
  for (const tier of tiers) {
    if (interrupted || missingJest) {
      results.push({
        tier,
        passed: 0,
        failed: 1,
        skipped: 0,
        notes: [missingJest ? `not run: ${path.relative(ROOT, JEST_BIN)} is missing (run scripts/setup.sh)` : `not run: interrupted by ${interrupted}`],
        seconds: 0,
      });
      continue;
    }
    results.push(tally(await runTier(tier, passthrough, timeoutMs)));
  }

  const totals = results.reduce(
    (t, r) => ({ passed: t.passed + r.passed, failed: t.failed + r.failed, skipped: t.skipped + r.skipped }),
    { passed: 0, failed: 0, skipped: 0 },
  );

  const lines = ['', `=== summary${IN_CI ? ' (CI)' : ''} ===`];
  for (const r of results) for (const n of r.notes) lines.push(`  note: ${r.tier}: ${n}`);
  for (const r of results) {
    lines.push(`  ${r.tier}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
  }
  let last = `${totals.passed} passed, ${totals.failed} failed`;
  if (totals.skipped > 0) last += `, ${totals.skipped} skipped`;
  lines.push(last);
  process.stdout.write(lines.join('\n') + '\n');

  if (interrupted) return 130;
  return totals.failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err && err.stack ? err.stack : err);
    process.stdout.write('0 passed, 1 failed\n');
    process.exitCode = 1;
  },
);
