import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import type { Linter } from 'eslint';

/**
 * The layer rule of eslint.config.mjs, run through ESLint's Node API on source text that exists only here:
 * each case names the file it pretends to be (its layer comes from that path) and what it imports.
 */
const ROOT = path.resolve(__dirname, '..', '..');

// The pretend files are not in tsconfig's program, so the one type-aware rule is off for them and they are
// parsed without the project service; every other rule of the real configuration applies unchanged.
const eslint = new ESLint({
  cwd: ROOT,
  overrideConfig: [
    {
      files: ['**/layerFixture.ts'],
      languageOptions: { parserOptions: { projectService: false } },
      rules: { '@typescript-eslint/no-floating-promises': 'off' },
    },
  ],
});

async function lint(file: string, source: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(source, { filePath: path.join(ROOT, file) });
  assert.ok(result, `no lint result for ${file}`);
  return result.messages;
}

const boundaryErrors = (messages: Linter.LintMessage[]) => messages.filter((m) => m.ruleId === 'boundaries/dependencies');

const UPWARD: Array<{ file: string; imports: string; from: string; to: string }> = [
  { file: 'lib/verify/layerFixture.ts', imports: '../../workers/runWorker', from: 'stage', to: 'workers' },
  { file: 'lib/verify/layerFixture.ts', imports: '../../activities/types', from: 'stage', to: 'activities' },
  { file: 'lib/verify/layerFixture.ts', imports: '../../test/support/reference', from: 'stage', to: 'test' },
  { file: 'lib/domain/layerFixture.ts', imports: '../verify/judge', from: 'domain', to: 'stage' },
  { file: 'lib/clients/layerFixture.ts', imports: '../stream/retry', from: 'clients', to: 'stage' },
  { file: 'activities/layerFixture.ts', imports: '../workflows/options', from: 'activities', to: 'workflows' },
  { file: 'workflows/layerFixture.ts', imports: '../workers/runWorker', from: 'workflows', to: 'workers' },
  { file: 'scripts/layerFixture.ts', imports: '../test/support/reference', from: 'scripts', to: 'test' },
];

for (const c of UPWARD) {
  test(`layer rule: ${c.file} importing ${c.imports} (${c.from} -> ${c.to}) is an error`, async () => {
    const messages = await lint(c.file, `import * as upward from '${c.imports}';\nexport const used = upward;\n`);
    const errors = boundaryErrors(messages);
    assert.equal(errors.length, 1, JSON.stringify(messages));
    assert.equal(errors[0]!.severity, 2);
    assert.match(errors[0]!.message, new RegExp(`"${c.from}" to elements of type "${c.to}"`));
  });
}

const DOWNWARD: Array<{ file: string; imports: string[] }> = [
  { file: 'lib/verify/layerFixture.ts', imports: ['../domain/hours', '../clients/mysql', '../stream/retry', '../config'] },
  { file: 'activities/layerFixture.ts', imports: ['../lib/verify/judge', '../lib/domain/message'] },
  { file: 'workers/layerFixture.ts', imports: ['../workflows/options', '../activities', '../lib/clients/kafka'] },
  // bench checks its results against the reference aggregator in test/support.
  { file: 'bench/layerFixture.ts', imports: ['../test/support/reference', '../lib/domain/generator'] },
];

for (const c of DOWNWARD) {
  test(`layer rule: ${c.file} importing ${c.imports.join(', ')} passes`, async () => {
    const source = c.imports.map((m, i) => `import * as m${i} from '${m}';\n`).join('') + `export const used = [${c.imports.map((_, i) => `m${i}`).join(', ')}];\n`;
    assert.deepEqual(await lint(c.file, source), []);
  });
}

test('import-x/no-cycle: a module importing a module that imports it back is an error', async () => {
  // lib/domain/transform.ts imports ./message; this text stands in for message.ts importing transform back.
  const messages = await lint('lib/domain/message.ts', "import { aggregate } from './transform';\nexport const used = aggregate;\n");
  assert.ok(
    messages.some((m) => m.ruleId === 'import-x/no-cycle' && m.severity === 2),
    JSON.stringify(messages),
  );
});
