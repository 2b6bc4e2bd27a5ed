/**
 * What a student does in classic Jupyter Notebook 6, in Chromium through playwright-core: open a notebook, Cell → Run
 * All, Shift-Enter on one cell, the Stop button, File → Trust Notebook — and what they then see (the kernel's name, the
 * "(unsaved changes)" mark, errors, pink stderr boxes, plots drawn, static pictures and hints).
 */
import type { Page } from 'playwright-core';

/** What the page shows right after opening a notebook and its kernel becoming ready. */
export interface OpenState {
  kernelName: string;
  dirty: boolean;
  saveStatus: string;
  trusted: boolean;
}

/** What one code cell shows. */
export interface CellView {
  index: number;
  /** the cell ran in this page (its prompt shows a number) */
  executed: boolean;
  tags: string[];
  error: string | null;
  stderr: string[];
  stdout: string;
  plots: number;
  drawn: number;
  pictures: number;
  hints: string[];
  blankBoxes: number;
}

/** Opens a notebook URL and waits for its kernel; then waits a moment for Notebook to record any metadata change. */
export async function openNotebook(page: Page, url: string, timeoutMs = 90_000): Promise<OpenState> {
  await page.goto(url, { timeout: timeoutMs });
  await page.waitForFunction(() => {
    const J = (window as any).Jupyter;
    return Boolean(J?.notebook?._fully_loaded && J.notebook.kernel?.info_reply?.language_info);
  }, null, { timeout: timeoutMs });
  await page.waitForTimeout(1500);
  return page.evaluate(() => {
    const J = (window as any).Jupyter;
    return {
      kernelName: document.querySelector('#kernel_indicator_name, .kernel_indicator_name')?.textContent?.trim() ?? '',
      dirty: Boolean(J.notebook.dirty),
      saveStatus: document.querySelector('#autosave_status')?.textContent?.trim() ?? '',
      trusted: Boolean(J.notebook.trusted),
    };
  });
}

/** Waits until no code cell runs any more (the kernel went idle after the last one). */
export async function waitIdle(page: Page, timeoutMs: number): Promise<void> {
  await page.waitForFunction(() => {
    const w = window as any;
    const running = document.querySelectorAll('.code_cell.running').length > 0;
    const now = Date.now();
    if (running) { w.__kitIdleSince = 0; return false; }
    if (!w.__kitIdleSince) w.__kitIdleSince = now;
    return now - w.__kitIdleSince > 1000;
  }, null, { timeout: timeoutMs, polling: 250 });
}

/** Cell → Run All through the menu, then waits for the last cell. Returns seconds taken. */
export async function runAll(page: Page, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await page.click('#celllink');
  await page.click('#run_all_cells > a');
  await page.waitForFunction(() => document.querySelectorAll('.code_cell.running').length > 0 || document.querySelectorAll('.code_cell .output_area').length > 0, null, { timeout: 30_000 });
  await waitIdle(page, timeoutMs);
  return (Date.now() - started) / 1000;
}

/** Selects code cell `index` (0-based among all cells) and presses Shift-Enter. */
export async function runCell(page: Page, index: number): Promise<void> {
  await page.evaluate((i) => {
    const nb = (window as any).Jupyter.notebook;
    nb.select(i);
    nb.command_mode();
  }, index);
  await page.keyboard.press('Shift+Enter');
  await page.waitForFunction((i) => (window as any).Jupyter.notebook.get_cell(i).element[0].classList.contains('running'), index, { timeout: 10_000 }).catch(() => undefined);
}

/** What every code cell shows now. */
export async function cellViews(page: Page): Promise<CellView[]> {
  return page.evaluate(() => {
    const cells = (window as any).Jupyter.notebook.get_cells() as Array<{ cell_type: string; element: HTMLElement[]; input_prompt_number?: unknown; metadata: { tags?: string[] } }>;
    return cells.map((c, index) => ({ c, index })).filter(({ c }) => c.cell_type === 'code').map(({ c, index }) => {
      const el: HTMLElement = c.element[0]; // (no named helper functions in here: tsx would wrap them in __name)
      const plots = Array.from(el.querySelectorAll<HTMLElement>('.kit-plot'));
      const err = el.querySelector('.output_error');
      return {
        index,
        executed: typeof c.input_prompt_number === 'number',
        tags: c.metadata.tags ?? [],
        error: err ? (err.textContent ?? '').trim().slice(0, 300) : null,
        stderr: Array.from(el.querySelectorAll('.output_stderr')).map((s) => (s.textContent ?? '').trim().slice(0, 300)),
        stdout: Array.from(el.querySelectorAll('.output_stdout')).map((s) => s.textContent ?? '').join('').slice(-2000),
        plots: plots.length,
        drawn: plots.filter((p) => p.querySelector('.js-plotly-plot .main-svg')).length,
        pictures: plots.filter((p) => { const img = p.querySelector<HTMLImageElement>('.kit-plot-static img'); return Boolean(img && img.naturalWidth > 0 && img.getBoundingClientRect().height > 100); }).length,
        hints: plots.map((p) => p.querySelector('.kit-plot-note')?.textContent?.trim() ?? '').filter(Boolean),
        blankBoxes: plots.filter((p) => p.getBoundingClientRect().height < 50).length,
      };
    });
  });
}

/** The Stop button of the toolbar (Kernel → Interrupt). */
export async function pressStop(page: Page): Promise<void> {
  await page.click('button[data-jupyter-action="jupyter-notebook:interrupt-kernel"]');
}

/** File → Save (waits until the server has written the file). */
export async function save(page: Page): Promise<void> {
  await page.evaluate(() => (window as any).Jupyter.notebook.save_notebook());
  await page.waitForFunction(() => !(window as any).Jupyter.notebook.dirty, null, { timeout: 30_000 });
}

/** Where this page fetched plotly.js from, if it did (not when it came inline with an output). */
export async function plotlyFetchedFrom(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const hit = performance.getEntriesByType('resource').find((e) => /plotly(\.min)?\.js/.test(e.name));
    return hit ? new URL(hit.name).pathname : null;
  });
}

/** File → Trust Notebook → Trust; Notebook then reloads the page (waited for by a marker the reload clears). */
export async function trustNotebook(page: Page): Promise<void> {
  await page.evaluate(() => { (window as any).__kitBeforeTrust = true; });
  await page.click('#filelink');
  await page.click('#trust_notebook > a');
  await page.waitForSelector('.modal.in .modal-footer button.btn-danger', { state: 'visible' });
  await page.waitForTimeout(500); // the dialog fades in; until then its backdrop takes the clicks
  await page.evaluate(() => (document.querySelector('.modal.in .modal-footer button.btn-danger') as HTMLButtonElement).click());
  await page.waitForFunction(() => !(window as any).__kitBeforeTrust && (window as any).Jupyter?.notebook?._fully_loaded, null, { timeout: 120_000, polling: 500 });
}

/** Waits until every plot of the page is drawn by plotly.js (or the timeout passes); returns [drawn, plots]. */
export async function waitPlotsDrawn(page: Page, timeoutMs: number): Promise<[number, number]> {
  const count = () => page.evaluate(() => {
    const plots = Array.from(document.querySelectorAll('.kit-plot'));
    return [plots.filter((p) => p.querySelector('.js-plotly-plot .main-svg')).length, plots.length] as [number, number];
  });
  const deadline = Date.now() + timeoutMs;
  let last = await count();
  while (last[0] < last[1] && Date.now() < deadline) {
    await page.waitForTimeout(250);
    last = await count();
  }
  return last;
}

/** File → Close and Halt without closing the tab: the notebook's kernel is shut down (its session deleted). */
export async function halt(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((resolve) => (window as any).Jupyter.notebook.session.delete(() => resolve(), () => resolve())));
}

/** Selects cell `index` and picks Cell → Run All Below (this cell and every one after it); returns seconds taken. */
export async function runAllBelow(page: Page, index: number, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await page.evaluate((i) => { const nb = (window as any).Jupyter.notebook; nb.select(i); nb.command_mode(); }, index);
  await page.click('#celllink');
  await page.click('#run_all_cells_below > a');
  await page.waitForFunction((i) => (window as any).Jupyter.notebook.get_cell(i).element[0].classList.contains('running'), index, { timeout: 30_000 }).catch(() => undefined);
  await waitIdle(page, timeoutMs);
  return (Date.now() - started) / 1000;
}
