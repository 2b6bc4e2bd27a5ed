/**
 * Benchmark (not a test): grade N submissions of one notebook and print the time.
 *   npx tsx scripts/grading/bench.ts [--notebook 05-practice] [--students 30] [--jobs 2] [--quick] [--timeout S]
 * Half the submissions are the instructor's notebook (full marks), half the untouched release (zero), so every
 * check runs both ways. Prints wall time, per-notebook mean, the grades' totals and the machine's load.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CommandSpec, runCommand, REPO_ROOT, sharedFlag } from '../lib/cli';
import { Notebook } from '../lib/nbformat';
import { gradeAll } from '../grade';
import { releaseNotebook } from './release';

const SPEC = {
  name: 'npx tsx scripts/grading/bench.ts',
  summary: 'Grade N copies of one notebook (half solved, half untouched) with --jobs and print the time it took.',
  flags: {
    notebook: { kind: 'string', arg: 'NAME', help: 'the notebook (default 05-practice)' },
    students: { kind: 'int', arg: 'N', min: 1, help: 'submissions (default 30)' },
    jobs: sharedFlag.jobs('notebooks graded', 2),
    quick: { kind: 'boolean', help: 'quick mode (default: full mode, as npm run grade)' },
    timeout: sharedFlag.timeout(300),
  },
} satisfies CommandSpec;

void runCommand(SPEC, process.argv.slice(2), async (flags) => {
  const name = flags.notebook ?? '05-practice';
  const n = flags.students ?? 30;
  const jobs = flags.jobs ?? 2;
  const sourceDir = path.join(REPO_ROOT, 'notebooks');
  const source = JSON.parse(fs.readFileSync(path.join(sourceDir, `${name}.ipynb`), 'utf8')) as Notebook;
  const released = releaseNotebook(source, name).nb;
  const subs = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-bench-subs-'));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-bench-grades-'));
  for (let i = 0; i < n; i++) {
    const dir = path.join(subs, `student-${String(i + 1).padStart(2, '0')}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, `${name}.ipynb`), JSON.stringify(i % 2 === 0 ? source : released));
  }
  const load0 = os.loadavg()[0];
  const cpu0 = process.cpuUsage();
  console.log(`grading ${n} submissions of ${name} with --jobs ${jobs} (${flags.quick ? 'quick' : 'full'} mode) on ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, load ${load0.toFixed(1)}…`);
  const r = await gradeAll({
    submissions: subs, outDir: out, sourceDir, cellTimeout: flags.timeout ?? 300, notebookTimeout: 1800, jobs, quick: flags.quick, log: () => undefined,
  });
  const totals = r.graded.map((g) => g.scores.reduce((a, s) => a + s.score, 0));
  const max = r.graded[0]?.scores.reduce((a, s) => a + s.maxScore, 0) ?? 0;
  const bad = r.graded.filter((g) => g.unreadable || g.problems.length).length;
  const cpu = process.cpuUsage(cpu0);
  console.log(`graded ${r.graded.length} in ${r.seconds.toFixed(1)} s wall (${(r.seconds / 60).toFixed(1)} min; ${(r.graded.reduce((a, g) => a + g.seconds, 0) / r.graded.length).toFixed(1)} s per notebook, ${jobs} at a time)`);
  console.log(`scores: ${totals.filter((t) => t === max).length} × ${max}/${max}, ${totals.filter((t) => t === 0).length} × 0/${max}, others ${totals.filter((t) => t !== 0 && t !== max).join(', ') || 'none'}; ${bad} with problems`);
  console.log(`grader process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (kernels not included); load average ${load0.toFixed(1)} → ${os.loadavg()[0].toFixed(1)}`);
  fs.rmSync(subs, { recursive: true, force: true });
  fs.rmSync(out, { recursive: true, force: true });
  return bad ? 1 : 0;
});
