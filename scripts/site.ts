/**
 * Static site of the executed notebooks: build/notebooks/*.ipynb + build/report.json → build/site/
 * (index.html, <name>.html, <name>.slides.html, <name>.ipynb, assets/ with KaTeX, highlight.js CSS and plotly.js — all offline).
 *   npm run site [-- --build DIR]      (DIR defaults to build/)
 */
import * as fs from 'fs';
import * as path from 'path';
import { Notebook } from './lib/nbformat';
import { readReport } from './notebooks/report';
import { PageNotebook, indexPage, notebookPage, slidesPage } from './site/pages';
import { runCommand, type CommandSpec } from './lib/cli';

export interface SiteResult {
  outDir: string;
  pages: string[];
}

function copyDir(src: string, dst: string): void {
  fs.mkdirSync(dst, { recursive: true });
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    if (e.isDirectory()) copyDir(path.join(src, e.name), path.join(dst, e.name));
    else fs.copyFileSync(path.join(src, e.name), path.join(dst, e.name));
  }
}

/** Copy the site's offline assets: own CSS/JS, KaTeX CSS + fonts, highlight.js theme, plotly.js (once). */
export function copyAssets(outDir: string): void {
  const assets = path.join(outDir, 'assets');
  copyDir(path.join(__dirname, 'site', 'assets'), assets);
  const katexDist = path.dirname(require.resolve('katex/dist/katex.min.css'));
  fs.mkdirSync(path.join(assets, 'katex'), { recursive: true });
  fs.copyFileSync(path.join(katexDist, 'katex.min.css'), path.join(assets, 'katex', 'katex.min.css'));
  copyDir(path.join(katexDist, 'fonts'), path.join(assets, 'katex', 'fonts'));
  fs.copyFileSync(require.resolve('highlight.js/styles/github.min.css'), path.join(assets, 'hljs.css'));
  fs.copyFileSync(require.resolve('plotly.js-dist/plotly.js'), path.join(assets, 'plotly.js'));
}

/** Build the site from a build folder (notebooks/ and report.json) into outDir. */
export function buildSite(buildDir: string, outDir = path.join(buildDir, 'site')): SiteResult {
  const nbDir = path.join(buildDir, 'notebooks');
  const report = readReport(path.join(buildDir, 'report.json'));
  const names = new Set<string>(report.notebooks.map((n) => n.name));
  if (fs.existsSync(nbDir)) for (const f of fs.readdirSync(nbDir)) if (f.endsWith('.ipynb')) names.add(path.basename(f, '.ipynb'));
  const list: PageNotebook[] = [...names].sort().map((name) => {
    const file = path.join(nbDir, `${name}.ipynb`);
    let nb: Notebook | null = null;
    if (fs.existsSync(file)) {
      try {
        nb = JSON.parse(fs.readFileSync(file, 'utf8')) as Notebook;
      } catch (e) {
        throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
      }
    }
    return { name, nb, result: report.notebooks.find((n) => n.name === name) ?? null };
  });
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  copyAssets(outDir);
  const pages = ['index.html'];
  fs.writeFileSync(path.join(outDir, 'index.html'), indexPage(list, report.generated));
  for (const p of list) {
    if (!p.nb) continue;
    fs.copyFileSync(path.join(nbDir, `${p.name}.ipynb`), path.join(outDir, `${p.name}.ipynb`));
    fs.writeFileSync(path.join(outDir, `${p.name}.html`), notebookPage(p));
    fs.writeFileSync(path.join(outDir, `${p.name}.slides.html`), slidesPage(p));
    pages.push(`${p.name}.html`, `${p.name}.slides.html`);
  }
  return { outDir, pages };
}

const spec = {
  name: 'npm run site --',
  summary: 'Builds build/site/ (pages and slides) from the executed notebooks in build/notebooks/.',
  flags: { build: { kind: 'string', help: 'the build folder holding notebooks/ (default build/)', arg: 'DIR' } },
} satisfies CommandSpec;

if (require.main === module) {
  void runCommand(spec, process.argv.slice(2), (f) => {
    const buildDir = path.resolve(f.build ?? path.join(__dirname, '..', 'build'));
    const t0 = Date.now();
    const r = buildSite(buildDir);
    console.log(`site: ${r.pages.length} pages in ${path.relative(process.cwd(), r.outDir) || '.'} (${Date.now() - t0} ms) — open ${path.join(path.relative(process.cwd(), r.outDir), 'index.html')}`);
  });
}
