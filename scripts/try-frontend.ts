/**
 * `npm run try-frontend`: the kit as a new student meets it in a real front-end — Debian's classic Jupyter Notebook 6
 * driven in headless Chromium (playwright-core) — re-runnable by anyone. It installs the kernels as the README says
 * (`npm run install-kernel`, into a clean HOME), starts `jupyter notebook` in the kit's folder, and for every notebook:
 * opens it (must not be marked changed), Cell → Run All (no errors, no pink stderr boxes, every plot drawn). Then:
 * reloads a tab and re-runs a plot cell, re-runs one in a new tab (still drawn), opens an untrusted copy (pictures and a
 * hint, no blank boxes; drawn after File → Trust Notebook), and presses Stop during a long training cell (the cell ends
 * within 2 s, the next cell runs). notebooks/ is left as it was found. Prints one line per check, writes
 * build/try-frontend/report.json and screenshots, exits 1 if a check fails — or 0 with a message where Jupyter
 * Notebook or Chromium is missing (apt-get install jupyter-notebook python3-nbclient python3-jupyter-client chromium).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { runCommand, type CommandSpec, type ParsedFlags, REPO_ROOT } from './lib/cli';
import { NotebookFolderGuard, NotebookServer, missingPrerequisites } from './frontend/server';
import { cellViews, halt, openNotebook, plotlyFetchedFrom, pressStop, runAll, runAllBelow, runCell, save, trustNotebook, waitIdle, waitPlotsDrawn } from './frontend/page';
import { KERNEL_DISPLAY_NAME, TSLAB_METADATA } from './lib/nbformat';

const CHROMIUM = '/usr/bin/chromium';

interface Check { ok: boolean; what: string; detail: string }

/** Peak resident memory of the page's kernel while `fn` runs (sampled every 250 ms). */
async function peakKernelMB<T>(server: NotebookServer, page: Page, fn: () => Promise<T>): Promise<[T, number]> {
  const id: string = await page.evaluate(() => (window as any).Jupyter.notebook.kernel.id);
  let peak = server.kernelsRssMB(id);
  const timer = setInterval(() => { peak = Math.max(peak, server.kernelsRssMB(id)); }, 250);
  try {
    return [await fn(), Math.max(peak, server.kernelsRssMB(id))];
  } finally {
    clearInterval(timer);
  }
}

const SPEC = {
  name: 'npm run try-frontend --',
  summary: 'Drives Debian\'s Jupyter Notebook in headless Chromium as a new student would and checks what they see.',
  flags: {
    timeout: { kind: 'int', min: 10, arg: 'S', help: 'seconds a notebook\'s Run All may take (default 600)' },
    only: { kind: 'strings', arg: 'NAMES', help: 'notebooks to Run All (default: every notebooks/*.ipynb), e.g. 00-welcome,02-strategies' },
    full: { kind: 'boolean', help: 'full mode (default: quick mode, KIT_QUICK=1 in the server\'s environment)' },
    'keep-cache': { kind: 'boolean', help: 'use the kit\'s data cache (default: a fresh one, as on a first run)' },
    out: { kind: 'string', arg: 'DIR', help: 'report and screenshots (default build/try-frontend)' },
  },
} satisfies CommandSpec;

const STOP_NOTEBOOK = {
  nbformat: 4, nbformat_minor: 5, metadata: TSLAB_METADATA,
  cells: [
    ['setup', "import * as kit from '..';\nawait kit.initBackend();\nconst data = await kit.loadView('digits-m-5-9', { split: 'train', mPerClass: 40, seed: 1 });\nconst net = kit.buildPlainCnn({ inputShape: [32, 32, 3], numClasses: 5, seed: 1 });\n'ready'"],
    ['long-training', 'const history = await kit.train(net, data, { epochs: 500, lr: 1e-3, seed: 1 });\nhistory.epochs.length'],
    ['after', "'kernel still usable: ' + (1 + 1)"],
  ].map(([id, source]) => ({ id, cell_type: 'code', metadata: {}, source, outputs: [], execution_count: null })),
};

class Run {
  readonly checks: Check[] = [];
  constructor(readonly out: string) {}
  check(ok: boolean, what: string, detail: string): boolean {
    this.checks.push({ ok, what, detail });
    console.log(`${ok ? '✔' : '✘'} ${what}${detail ? ` — ${detail}` : ''}`);
    return ok;
  }
  async shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: path.join(this.out, `${name}.png`), fullPage: true }).catch(() => undefined);
    // and the first figure as the student sees it (Notebook scrolls inside a panel, so the page shot shows the top only)
    await page.locator('.kit-plot').first().screenshot({ path: path.join(this.out, `${name}-plot.png`), timeout: 5000 }).catch(() => undefined);
  }
}

/** Open (no change), Run All (no error, no stderr, plots drawn), save. Returns the index of its first plot cell, if any. */
async function tryNotebook(run: Run, server: NotebookServer, page: Page, name: string, timeoutS: number): Promise<number | null> {
  const opened = await openNotebook(page, server.url(`notebooks/notebooks/${name}.ipynb`));
  run.check(!opened.dirty && opened.kernelName === KERNEL_DISPLAY_NAME, `${name}: opens unchanged`,
    `kernel "${opened.kernelName}", ${opened.dirty ? 'marked changed' : 'not marked changed'}${opened.saveStatus ? ` ${opened.saveStatus}` : ''}`);
  let [seconds, peakMB] = await peakKernelMB(server, page, () => runAll(page, timeoutS * 1000));
  let views = await cellViews(page);
  // A cell tagged raises-exception shows an error on purpose (tslab prints errors on stderr).
  const expected = (v: (typeof views)[number]) => v.tags.includes('raises-exception');
  // Notebook and JupyterLab send stop_on_error=false for such a cell, but tslab 1.0.22 cancels every queued cell after
  // any error: Run All ends there. Say so, and go on as a student would (Cell → Run All Below from the next cell).
  for (let guard = 0; guard < 5; guard++) {
    const stopper = views.find((v, i) => expected(v) && v.executed && (v.error || v.stderr.length) && views.slice(i + 1).some((w) => !w.executed));
    if (!stopper) break;
    const next = views.find((v) => v.index > stopper.index && !v.executed)!;
    run.check(false, `${name}: Run All goes past cell ${stopper.index}, which fails on purpose (raises-exception)`,
      `Run All stopped there: tslab cancels the queued cells after any error (it ignores stop_on_error); a student has to pick Cell → Run All Below at cell ${next.index}`);
    const [more, peak] = await peakKernelMB(server, page, () => runAllBelow(page, next.index, timeoutS * 1000));
    seconds += more;
    peakMB = Math.max(peakMB, peak);
    views = await cellViews(page);
  }
  const [drawn, plots] = await waitPlotsDrawn(page, 30_000);
  const errors = views.filter((v) => v.error && !expected(v));
  const notRun = views.filter((v) => !v.executed);
  const stderr = views.filter((v) => v.stderr.length && !expected(v));
  await run.shot(page, name);
  run.check(errors.length === 0 && notRun.length === 0, `${name}: Run All runs every cell without errors`,
    errors.length ? `cell ${errors[0].index}: ${errors[0].error}` : notRun.length ? `${notRun.length} cells did not run, from cell ${notRun[0].index}` : `${views.length} code cells in ${seconds.toFixed(0)} s, kernel peak ${peakMB.toFixed(0)} MB resident`);
  run.check(stderr.length === 0, `${name}: no stderr (pink) boxes`, stderr.map((v) => `cell ${v.index}: ${v.stderr[0].split('\n')[0]}`).join('; '));
  run.check(drawn === plots, `${name}: every plot drawn`, `${drawn}/${plots}`);
  if (name === '00-welcome') {
    const first = views[0];
    run.check(/native TensorFlow not installed; using wasm/.test(first.stdout) && !/Cannot find module/.test(first.stdout + first.stderr.join('')),
      '00-welcome: the first cell reports the backend calmly', first.stdout.split('\n').find((l) => /wasm|tensorflow|cpu/.test(l))?.slice(0, 160) ?? first.stdout.slice(0, 160));
  }
  await save(page);
  return views.find((v) => v.plots > 0)?.index ?? null;
}

/** Tab reload without saving, then a new tab: re-running a plot cell must still draw. */
async function tryReload(run: Run, server: NotebookServer, browser: BrowserContext, page: Page, name: string, cell: number): Promise<void> {
  const url = server.url(`notebooks/notebooks/${name}.ipynb`);
  // The notebook without saved outputs, as after closing the tab without saving: nothing in the page brings plotly.js.
  await openNotebook(page, url);
  await page.evaluate(() => (window as any).Jupyter.notebook.clear_all_output());
  await save(page);
  await page.reload();
  await openNotebook(page, url);
  const before = (await cellViews(page)).reduce((n, v) => n + v.plots, 0);
  await runCell(page, cell);
  await waitIdle(page, 300_000);
  let [drawn, plots] = await waitPlotsDrawn(page, 30_000);
  let from = await plotlyFetchedFrom(page);
  await run.shot(page, 'reload');
  const shown = (await cellViews(page)).find((v) => v.index === cell);
  const why = plots === 0 && shown ? `; the cell shows: ${(shown.error ?? shown.stderr[0] ?? shown.stdout).trim().slice(0, 200) || '(nothing)'}` : '';
  run.check(before === 0 && plots > 0 && drawn === plots && from != null, 'after a tab reload, a re-run plot cell draws',
    `${name} cell ${cell}: ${drawn}/${plots} drawn, plotly.js from ${from ?? 'nowhere'} (${before} saved plots in the page)${why}`);
  const tab = await browser.newPage();
  await openNotebook(tab, url);
  await runCell(tab, cell);
  await waitIdle(tab, 300_000);
  [drawn, plots] = await waitPlotsDrawn(tab, 30_000);
  from = await plotlyFetchedFrom(tab);
  await run.shot(tab, 'new-tab');
  run.check(plots > 0 && drawn === plots && from != null, 'in a new tab, a re-run plot cell draws', `${name} cell ${cell}: ${drawn}/${plots} drawn, plotly.js from ${from ?? 'nowhere'}`);
  await tab.close();
}

/** A copy someone sent (changed outside Jupyter, so untrusted): pictures and a hint; after Trust Notebook, drawn. */
async function tryUntrusted(run: Run, server: NotebookServer, page: Page, name: string): Promise<void> {
  const nb = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'notebooks', `${name}.ipynb`), 'utf8'));
  nb.metadata.sent_by = 'a classmate';
  const copy = 'try-frontend-untrusted';
  fs.writeFileSync(path.join(REPO_ROOT, 'notebooks', `${copy}.ipynb`), JSON.stringify(nb, null, 1));
  const opened = await openNotebook(page, server.url(`notebooks/notebooks/${copy}.ipynb`));
  const views = (await cellViews(page)).filter((v) => v.plots > 0);
  const plots = views.reduce((n, v) => n + v.plots, 0);
  const pictures = views.reduce((n, v) => n + v.pictures, 0);
  const blank = views.reduce((n, v) => n + v.blankBoxes, 0);
  const hint = views.flatMap((v) => v.hints)[0] ?? '';
  await run.shot(page, 'untrusted');
  run.check(!opened.trusted && plots > 0 && pictures === plots && blank === 0 && /trust the notebook/.test(hint) && !/&lt;|&quot;/.test(hint),
    'an untrusted copy shows pictures and a hint, no blank boxes', `${pictures}/${plots} pictures, ${blank} blank; "${hint.slice(0, 90)}…"`);
  await trustNotebook(page);
  await openNotebook(page, server.url(`notebooks/notebooks/${copy}.ipynb`));
  const [drawn, after] = await waitPlotsDrawn(page, 30_000);
  run.check(after > 0 && drawn === after, 'after File → Trust Notebook the plots draw', `${drawn}/${after}`);
}

/**
 * Stop during a long kit.train: the cell ends within 2 s with the kit's message, and the next cell runs. Stop is pressed
 * once training shows progress; a first Stop pressed before that (while tslab still compiles the cell) is tried too.
 */
async function tryStop(run: Run, server: NotebookServer, page: Page): Promise<void> {
  const name = 'try-frontend-stop';
  fs.writeFileSync(path.join(REPO_ROOT, 'notebooks', `${name}.ipynb`), JSON.stringify(STOP_NOTEBOOK, null, 1));
  await openNotebook(page, server.url(`notebooks/notebooks/${name}.ipynb`));
  await runCell(page, 0);
  await waitIdle(page, 300_000);
  const started = Date.now();
  await runCell(page, 1);
  // training has begun when the cell shows its progress bar (any output)
  const [progress, peakMB] = await peakKernelMB(server, page, async () => {
    const shown = await page.waitForFunction(() => (document.querySelectorAll('.code_cell')[1]?.querySelectorAll('.output_area').length ?? 0) > 0, null, { timeout: 180_000 }).then(() => true, () => false);
    await page.waitForTimeout(3000);
    return shown;
  });
  const running = await page.evaluate(() => document.querySelectorAll('.code_cell.running').length);
  const pressed = Date.now();
  await pressStop(page);
  const stopped = await waitIdle(page, 60_000).then(() => true, () => false);
  const ended = (Date.now() - pressed - 1000) / 1000; // waitIdle waits 1 s of quiet
  const views = await cellViews(page);
  const text = views[1].stdout + views[1].stderr.join('\n') + (views[1].error ?? '');
  await run.shot(page, 'stop');
  run.check(running === 1 && stopped && ended <= 2, 'Stop ends a long training cell within 2 s',
    `${!running ? 'the cell had already finished' : stopped ? `ended ${ended.toFixed(1)} s after Stop` : 'still running 60 s after Stop'}; Stop pressed ${((pressed - started) / 1000).toFixed(0)} s after the cell started${progress ? ', once it showed progress' : ' (no progress shown within 180 s)'}; kernel ${peakMB.toFixed(0)} MB resident while training`);
  if (!stopped) {
    await pressStop(page); // what a student does next
    await waitIdle(page, 120_000).catch(async () => { await page.evaluate(() => (window as any).Jupyter.notebook.kernel.restart()); await page.waitForTimeout(10_000); });
  }
  run.check(/Interrupt received: kit\.train stops after epoch \d+ of 500, step \d+/.test(text), 'Stop says where training stopped', text.split('\n').find((l) => /interrupt/i.test(l))?.trim().slice(0, 160) ?? '(no interrupt message)');
  await runCell(page, 2);
  await waitIdle(page, 60_000);
  const after = (await cellViews(page))[2];
  run.check(/kernel still usable: 2/.test(after.stdout + (await page.evaluate(() => document.querySelectorAll('.code_cell')[2].textContent ?? ''))), 'after Stop the next cell runs', after.error ?? '');
}

async function main(flags: ParsedFlags<typeof SPEC>): Promise<number> {
  const missing = missingPrerequisites(CHROMIUM);
  if (missing) {
    console.log(`try-frontend: skipped — ${missing}`);
    return 0;
  }
  const out = path.resolve(flags.out ?? path.join(REPO_ROOT, 'build', 'try-frontend'));
  fs.mkdirSync(out, { recursive: true });
  const run = new Run(out);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-student-'));
  const env: Record<string, string> = flags.full ? {} : { KIT_QUICK: '1' };
  if (!flags['keep-cache']) env.KIT_CACHE_DIR = path.join(home, 'kit-cache');
  const server = new NotebookServer(REPO_ROOT, home, env);
  const guard = new NotebookFolderGuard(path.join(REPO_ROOT, 'notebooks'));
  const names = flags.only ?? fs.readdirSync(path.join(REPO_ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb')).map((f) => f.replace(/\.ipynb$/, '')).sort();
  let browser: BrowserContext | null = null;
  const restore = () => guard.restore();
  // Ctrl-C: leave no server, kernel or browser behind, and notebooks/ as found.
  process.once('SIGINT', () => void (async () => { await browser?.close().catch(() => undefined); await server.stop(); restore(); process.exit(130); })());
  try {
    console.log(server.installKernels());
    const list = server.kernelspecList();
    run.check(/\btslab\b/.test(list) && /\btslab-quick\b/.test(list), 'jupyter kernelspec list shows both kit kernels', list.replace(/\s+/g, ' '));
    await server.start();
    console.log(`try-frontend: Jupyter Notebook ${server.version()} on port ${server.port}, ${flags.full ? 'full' : 'quick'} mode, HOME=${home}`);
    // A fresh profile (--user-data-dir) in the clean HOME: nothing cached from an earlier run.
    browser = await chromium.launchPersistentContext(path.join(home, 'chromium'), { executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    browser.setDefaultTimeout(120_000); // a busy 2-core machine loads Notebook's page slowly
    const page = await browser.newPage();
    page.on('dialog', (d) => void d.accept());
    let plotAt: { name: string; cell: number } | null = null;
    for (const name of names) {
      const cell = await tryNotebook(run, server, page, name, flags.timeout ?? 600);
      if (cell != null && !plotAt) plotAt = { name, cell }; // its kernel stays: the reload check re-runs a plot cell in it
      else await halt(page); // File → Close and Halt, as a student moving on would
    }
    const status = (await import('child_process')).spawnSync('git', ['status', '--porcelain', '--ignored=no', 'notebooks/'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout;
    run.check(!/ipynb_checkpoints/.test(status), "Jupyter's checkpoints are ignored by git", status.trim().replace(/\n/g, '; ') || 'nothing to report');
    if (plotAt) {
      await tryUntrusted(run, server, page, plotAt.name);
      await tryReload(run, server, browser, page, plotAt.name, plotAt.cell);
    }
    await tryStop(run, server, page);
  } finally {
    await browser?.close();
    await server.stop();
    restore();
    fs.writeFileSync(path.join(out, 'report.json'), JSON.stringify({ checks: run.checks, server: server.log.slice(-20_000) }, null, 2) + '\n');
    fs.rmSync(home, { recursive: true, force: true });
  }
  const failed = run.checks.filter((c) => !c.ok).length;
  console.log(`try-frontend: ${run.checks.length - failed}/${run.checks.length} checks passed; report and screenshots in ${path.relative(process.cwd(), out)}/`);
  return failed ? 1 : 0;
}

if (require.main === module) void runCommand(SPEC, process.argv.slice(2), main);
