/** An insert and its values. */
export interface Insert {
  query: string;
  params: unknown[];
}

/**
 * Distinct column sets prepared per table and ingest. Real exports have a few dozen (which optional columns a
 * kind of event fills); past the cap a row binds every column, its empty ones unset, as one statement would.
 */
export const MAX_SHAPES = 64;

/**
 * Inserts into one table that name only the columns a row has values for. Each unset value still costs the
 * driver an encoded length and two small buffers, and a third of a typical tracking row is empty (the utm_*
 * columns, id, and the fields its kind of event leaves out): the same cells are written with a third fewer
 * parameters. A null or undefined value is left out, never bound as null (that would write a tombstone).
 */
export function shapedInserts(table: string, columns: readonly string[]): (values: readonly unknown[]) => Insert {
  const shapes = new Map<string, string>();
  const full = insertInto(table, columns);
  return (values) => {
    let key = '';
    const params: unknown[] = [];
    for (let i = 0; i < columns.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) {
        key += '0';
        continue;
      }
      key += '1';
      params.push(v);
    }
    let query = shapes.get(key);
    if (query === undefined) {
      if (shapes.size >= MAX_SHAPES) return { query: full, params: values.map((v) => v ?? undefined) };
      query = insertInto(table, columns.filter((_, i) => key[i] === '1'));
      shapes.set(key, query);
    }
    return { query, params };
  };
}

function insertInto(table: string, columns: readonly string[]): string {
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
}
