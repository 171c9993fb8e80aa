/**
 * Splits a migration file (.cql or .sql) into its statements: whole-line `--` comments are dropped and the text
 * is cut at every `;`. The migrations are written for this (no `;` inside a literal, comments on their own lines).
 */
export function migrationStatements(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}
