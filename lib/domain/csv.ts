import { stringify } from 'csv-stringify/sync';

/**
 * One CSV record without its line break (RFC 4180, as csv-stringify writes it): a field holding a comma,
 * a quote or a line break is quoted, quotes doubled; null and undefined are empty fields.
 */
export function csvRow(values: ReadonlyArray<string | number | null | undefined>): string {
  return stringify([values as Array<string | number | null | undefined>], { eof: false });
}
