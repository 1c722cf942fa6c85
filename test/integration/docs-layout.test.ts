/**
 * The README's layout tree and docs/architecture.md name the tree as it is (issue 14, item 7): every
 * folder under src/ has a line in the layout, and every path either page names exists. A rename that
 * leaves the pages behind fails here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

const SKIP = new Set(['node_modules', '.git', 'dist', 'data', 'coverage', '.scratch']);

/** Every file and folder name in the repository, for the pages' bare names such as `drift.service.ts`. */
function fileNames(dir = ROOT, out = new Set<string>()): Set<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    out.add(e.name);
    if (e.isDirectory()) fileNames(join(dir, e.name), out);
  }
  return out;
}

/** Whether a path a page names exists: from the repository root, from src/ or from src/domain/. */
function named(path: string, bareNames: Set<string>): boolean {
  const p = path.replace(/\/$/, '');
  if (!p.includes('/')) return bareNames.has(p) || existsSync(join(ROOT, p));
  return [p, `src/${p}`, `src/domain/${p}`].some((c) => existsSync(join(ROOT, c)));
}

/** The code block under the README's `## Layout` heading. */
function layoutTree(): string {
  const readme = read('README.md');
  const section = readme.slice(readme.indexOf('\n## Layout\n'));
  const block = /```\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README.md has no layout tree under ## Layout');
  return block[1]!;
}

/** Path-like words: a folder (`x/`, `x/y/`), a file with an extension, or both (`inference/onnx/`). */
const PATH_WORD =
  /(?<![\w<>*.@/-])((?:[\w.-]+\/)+(?:[\w.-]+\.(?:ts|js|json|md|graphql|yml))?|[\w-]+(?:\.[\w-]+)*\.(?:ts|js|graphql|yml))(?![\w<>*/])/g;

describe('the README layout and docs/architecture.md match the tree', () => {
  const bareNames = fileNames();

  it('lists every folder under src/ in the README layout tree', () => {
    const listed = new Set([...layoutTree().matchAll(/^ {2}([\w.-]+)\/(?:<\w+>\/)?\s/gm)].map((m) => m[1]));
    const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.filter((f) => !listed.has(f))).toEqual([]);
  });

  /** The words that name no existing path (placeholders such as `<feature>` aside); fails on too few words. */
  function missing(words: string[]): string[] {
    expect(words.length).toBeGreaterThan(10);
    return [...new Set(words.filter((w) => !w.includes('<') && !named(w, bareNames)))];
  }
  const pathWords = (text: string) => [...text.matchAll(PATH_WORD)].map((m) => m[1]!);

  it('every path the README layout tree names exists', () => {
    expect(missing(pathWords(layoutTree()))).toEqual([]);
  });

  it('every path docs/architecture.md names exists (in backticks and in the request diagram)', () => {
    const page = read('docs/architecture.md');
    const quoted = [...page.matchAll(/`([^`\s]+)`/g)]
      .map((m) => m[1]!)
      .filter((w) => /\/|\.(ts|js|md)$/.test(w));
    const diagrams = [...page.matchAll(/```\n([\s\S]*?)```/g)].flatMap((m) => pathWords(m[1]!));
    expect(missing([...quoted, ...diagrams])).toEqual([]);
  });
});
