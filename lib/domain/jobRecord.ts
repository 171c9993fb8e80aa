/** The job export (docs/data-contract.md, input 2): 30 columns, loaded into the `job` dimension table. */

export const JOB_COLUMNS = [
  'id',
  'created_by',
  'created_date',
  'last_modified_by',
  'last_modified_date',
  'is_active',
  'title',
  'description',
  'work_schedule',
  'radius_unit',
  'location_state',
  'location_list',
  'role_location',
  'resume_option',
  'budget',
  'status',
  'error',
  'template_question_id',
  'template_question_name',
  'question_form_description',
  'redirect_url',
  'start_date',
  'end_date',
  'close_date',
  'group_id',
  'minor_id',
  'campaign_id',
  'company_id',
  'history_status',
  'ref_id',
] as const;

export type JobColumn = (typeof JOB_COLUMNS)[number];
export type JobValue = string | number | null;
export type JobRow = Record<JobColumn, JobValue>;

const INTEGER_COLUMNS = new Set<JobColumn>([
  'id',
  'is_active',
  'status',
  'template_question_id',
  'group_id',
  'minor_id',
  'campaign_id',
  'company_id',
  'history_status',
]);
const DOUBLE_COLUMNS = new Set<JobColumn>(['budget']);
const DATETIME_COLUMNS = new Set<JobColumn>(['created_date', 'last_modified_date']);

/** Integers may come as `12` or as the exporter's double `12.0`. */
const INTEGER_RE = /^[+-]?\d+(?:\.0*)?$/;
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DATETIME_RE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?$/;
const BOOL: Record<string, number> = { true: 1, false: 0, t: 1, f: 0 };

/**
 * Longest text each column holds (migrations/mysql/002_job.sql): VARCHAR(n) in characters; TEXT and
 * MEDIUMTEXT in bytes. A longer value is a rejected row, not a failed 500-row upsert.
 */
export const JOB_TEXT_LIMITS: Partial<Record<JobColumn, { max: number; unit: 'chars' | 'bytes' }>> = {
  created_by: { max: 255, unit: 'chars' },
  last_modified_by: { max: 255, unit: 'chars' },
  title: { max: 1024, unit: 'chars' },
  description: { max: 16_777_215, unit: 'bytes' },
  work_schedule: { max: 255, unit: 'chars' },
  radius_unit: { max: 64, unit: 'chars' },
  location_state: { max: 255, unit: 'chars' },
  location_list: { max: 65_535, unit: 'bytes' },
  role_location: { max: 255, unit: 'chars' },
  resume_option: { max: 255, unit: 'chars' },
  error: { max: 65_535, unit: 'bytes' },
  template_question_name: { max: 1024, unit: 'chars' },
  question_form_description: { max: 65_535, unit: 'bytes' },
  redirect_url: { max: 65_535, unit: 'bytes' },
  start_date: { max: 64, unit: 'chars' },
  end_date: { max: 64, unit: 'chars' },
  close_date: { max: 64, unit: 'chars' },
  ref_id: { max: 255, unit: 'chars' },
};

/** Integer columns narrower than BIGINT. */
const INTEGER_RANGES: Partial<Record<JobColumn, [number, number]>> = {
  is_active: [-128, 127],
  status: [-2_147_483_648, 2_147_483_647],
  history_status: [-2_147_483_648, 2_147_483_647],
};

function textTooLong(col: JobColumn, value: string): string | undefined {
  const lim = JOB_TEXT_LIMITS[col];
  if (!lim) return undefined;
  // Characters as MySQL counts them (code points); only a long value needs the exact count.
  const size = lim.unit === 'bytes' ? Buffer.byteLength(value, 'utf8') : value.length <= lim.max ? 0 : [...value].length;
  return size > lim.max ? `field_too_long: ${col} has ${size} ${lim.unit}, the column holds ${lim.max}` : undefined;
}

export type JobCheck = { ok: true; row: JobRow } | { ok: false; reason: string };

export function checkJobHeader(found: readonly string[]): string | undefined {
  const names = found.map((c) => c.replace(/^\uFEFF/, '').trim());
  if (names.length === JOB_COLUMNS.length && names.every((n, i) => n === JOB_COLUMNS[i])) return undefined;
  // Only name-like text is echoed: the header line may be anything (a misplaced file, a secret).
  const shown = names.slice(0, 40).map((n) => (/^[A-Za-z0-9_.-]{1,32}$/.test(n) ? n : '?'));
  return `unexpected job CSV header: expected ${JOB_COLUMNS.length} columns [${JOB_COLUMNS.join(',')}], found ${names.length} columns [${shown.join(',')}]`;
}

/** Validates and types one job record; text stays as exported, empty means null. */
export function checkJobRecord(fields: readonly string[]): JobCheck {
  if (fields.length !== JOB_COLUMNS.length) {
    return { ok: false, reason: `column_count: expected ${JOB_COLUMNS.length} fields, found ${fields.length}` };
  }
  const row = {} as JobRow;
  for (let i = 0; i < JOB_COLUMNS.length; i++) {
    const col = JOB_COLUMNS[i]!;
    const raw = fields[i]!;
    const s = raw.trim();
    if (s === '') {
      if (col === 'id') return { ok: false, reason: 'invalid_id: id is empty' };
      row[col] = null;
      continue;
    }
    if (INTEGER_COLUMNS.has(col)) {
      const b = BOOL[s.toLowerCase()];
      if (col === 'is_active' && b !== undefined) {
        row[col] = b;
      } else if (INTEGER_RE.test(s) && Number.isSafeInteger(Math.trunc(Number(s)))) {
        const n = Math.trunc(Number(s));
        const range = INTEGER_RANGES[col];
        if (range && (n < range[0] || n > range[1])) return { ok: false, reason: `invalid_integer: ${col} is out of range: ${n}` };
        row[col] = n;
      } else {
        return { ok: false, reason: `${col === 'id' ? 'invalid_id' : 'invalid_integer'}: ${col} is not an integer: ${JSON.stringify(s.slice(0, 40))}` };
      }
    } else if (DOUBLE_COLUMNS.has(col)) {
      if (!NUMBER_RE.test(s) || !Number.isFinite(Number(s))) {
        return { ok: false, reason: `invalid_number: ${col} is not a finite number: ${JSON.stringify(s.slice(0, 40))}` };
      }
      row[col] = Number(s) + 0;
    } else if (DATETIME_COLUMNS.has(col)) {
      if (!DATETIME_RE.test(s)) return { ok: false, reason: `invalid_datetime: ${col}: ${JSON.stringify(s.slice(0, 40))}` };
      row[col] = s.replace('T', ' ');
    } else {
      const tooLong = textTooLong(col, raw);
      if (tooLong) return { ok: false, reason: tooLong };
      row[col] = raw;
    }
  }
  return { ok: true, row };
}
