/**
 * The longest functions of each stage module under lib/, counted as ESLint's max-lines-per-function counts them
 * with skipBlankLines and skipComments (lines of the function's span that hold code; nested functions count in
 * the function around them too).
 *
 *   npx tsx scripts/function-lengths.ts [--root DIR] [--top 3] [--over 60]
 *
 * --root: the checkout to read (default: this one); --top: functions listed per module; --over: list only
 * functions longer than this.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface FunctionLength {
  module: string;
  file: string;
  line: number;
  name: string;
  lines: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.isFile() && p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** Line numbers (0-based) that hold code: a line with part of a token on it (comments and blanks are trivia). */
function codeLines(sf: ts.SourceFile): Set<number> {
  const code = new Set<number>();
  const mark = (node: ts.Node): void => {
    const children = node.getChildren(sf);
    if (children.length === 0) {
      if (node.kind === ts.SyntaxKind.EndOfFileToken) return;
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      for (let l = first; l <= last; l++) code.add(l);
      return;
    }
    for (const c of children) mark(c);
  };
  mark(sf);
  return code;
}

function nameOf(node: ts.Node): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name && ts.isIdentifier(named.name)) return named.name.text;
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isCallExpression(parent)) return `(callback of ${parent.expression.getText().slice(0, 40)})`;
  return '(anonymous)';
}

/** lib/<folder> for files in a folder of lib/, the file itself for the ones at the top of lib/. */
function moduleOf(rel: string): string {
  const parts = rel.split(path.sep);
  return parts.length > 2 ? parts.slice(0, 2).join('/') : rel;
}

export function functionLengths(root: string): FunctionLength[] {
  const out: FunctionLength[] = [];
  for (const file of tsFiles(path.join(root, 'lib'))) {
    const rel = path.relative(root, file);
    const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const code = codeLines(sf);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
        const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
        const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
        let lines = 0;
        for (let l = start; l <= end; l++) if (code.has(l)) lines++;
        out.push({ module: moduleOf(rel), file: rel.split(path.sep).join('/'), line: start + 1, name: nameOf(node), lines });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

function main(): void {
  const root = path.resolve(arg('root', path.join(__dirname, '..')));
  const top = Number(arg('top', '3'));
  const over = Number(arg('over', '0'));
  const byModule = new Map<string, FunctionLength[]>();
  for (const f of functionLengths(root)) {
    if (f.lines <= over) continue;
    byModule.set(f.module, [...(byModule.get(f.module) ?? []), f]);
  }
  const rows = [...byModule.entries()]
    .map(([module, fns]) => ({ module, fns: fns.sort((a, b) => b.lines - a.lines).slice(0, top) }))
    .sort((a, b) => b.fns[0]!.lines - a.fns[0]!.lines);
  process.stdout.write('| module | lines | function | where |\n| --- | ---: | --- | --- |\n');
  for (const { module, fns } of rows) {
    for (const f of fns) process.stdout.write(`| ${module} | ${f.lines} | ${f.name} | ${f.file}:${f.line} |\n`);
  }
}

if (require.main === module) main();
