/**
 * Lint for a tslab pitfall: a shorthand property (`{ seed }`) naming a top-level variable, function or import
 * of an EARLIER cell throws `ReferenceError` at run time (tslab rewrites those names to `exports.x` but not
 * inside shorthand properties). Write `{ seed: seed }` instead.
 */
import { NotebookCell, cellSource } from '../lib/nbformat';

const ID = '[A-Za-z_$][\\w$]*';

/** Source without comments and string/template literal contents (so braces and names inside them are ignored). */
export function stripLiterals(src: string): string {
  return src
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/[^\n]*/g, ' ')
    .replace(/'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`/g, '""');
}

/** Top-level names a cell declares: const/let/var (with simple destructuring), function, class, imports. */
export function declaredNames(src: string): Set<string> {
  const s = stripLiterals(src);
  const names = new Set<string>();
  const add = (list: string) => list.split(',').map((p) => p.trim().split(/\s+as\s+|\s*:\s*/).pop()!.replace(/=.*$/, '').replace(/^\.\.\./, '').trim())
    .filter((n) => new RegExp(`^${ID}$`).test(n)).forEach((n) => names.add(n));
  for (const m of s.matchAll(new RegExp(`^(?:export\\s+)?(?:const|let|var)\\s+(${ID})`, 'gm'))) names.add(m[1]);
  for (const m of s.matchAll(/^(?:export\s+)?(?:const|let|var)\s+[{[]([^}\]]*)[}\]]/gm)) add(m[1]);
  for (const m of s.matchAll(new RegExp(`^(?:export\\s+)?(?:async\\s+)?(?:function\\s*\\*?|class)\\s+(${ID})`, 'gm'))) names.add(m[1]);
  for (const m of s.matchAll(new RegExp(`^import\\s+(?:type\\s+)?(?:\\*\\s+as\\s+(${ID})|(${ID}))`, 'gm'))) names.add(m[1] ?? m[2]);
  for (const m of s.matchAll(/^import\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?\{([^}]*)\}/gm)) add(m[1]);
  names.delete('type');
  return names;
}

/** Split on commas outside parentheses and brackets. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0) { parts.push(s.slice(start, i)); start = i + 1; }
  }
  parts.push(s.slice(start));
  return parts;
}

/** Identifiers used as shorthand properties in object literals of the source (patterns and imports excluded). */
export function shorthandProperties(src: string): Set<string> {
  const s = stripLiterals(src);
  const used = new Set<string>();
  const re = /\{([^{}]*)\}/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const after = s.slice(re.lastIndex, re.lastIndex + 40);
    const before = s.slice(Math.max(0, m.index - 40), m.index);
    // destructuring patterns, typed parameters, import/export lists, type literals are not object literals
    if (/^\s*(=(?!=)|\)\s*(=>|:)|:|,\s*[\w$]+\s*[:)]|\s*\)\s*\{|\s+of\b|\s+in\b|\s*from\b)/.test(after)) continue;
    if (/(\b(import|export|const|let|var|type|interface)\s*(type\s+)?|[:<|&]\s*)$/.test(before)) continue;
    for (const item of splitTopLevel(m[1])) {
      const t = item.trim().replace(/\?$/, '');
      if (new RegExp(`^${ID}$`).test(t)) used.add(t);
    }
  }
  return used;
}

/** Problems: shorthand properties in a cell that name a top-level binding from an earlier code cell. */
export function lintShorthand(cells: NotebookCell[]): string[] {
  const problems: string[] = [];
  const earlier = new Set<string>();
  cells.forEach((cell, i) => {
    if (cell.cell_type !== 'code') return;
    const src = cellSource(cell);
    const own = declaredNames(src);
    for (const name of shorthandProperties(src)) {
      if (earlier.has(name) && !own.has(name)) {
        problems.push(`cells[${i}]: shorthand property { ${name} } names '${name}' from an earlier cell — tslab throws ReferenceError here; write { ${name}: ${name} }`);
      }
    }
    for (const n of own) earlier.add(n);
  });
  return problems;
}
