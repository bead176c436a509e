import type { ViolationView } from '@app/projections';
import type { XlsxColumn } from './xlsx';

type Cell = string | number | boolean | null;

const COLUMNS: Array<[string, (v: ViolationView) => Cell, number?]> = [
  ['合同编号 contractId', (v) => v.contractId, 24],
  ['规则 rule', (v) => v.rule],
  ['义务 key', (v) => v.key],
  ['采购单位编码 unitCode', (v) => v.unitCode],
  ['采购单位 unitName', (v) => v.unitName, 32],
  ['区域 region', (v) => v.region],
  ['供应商信用代码 supplierCreditCode', (v) => v.supplierCreditCode, 22],
  ['供应商 supplierName', (v) => v.supplierName, 32],
  ['起算日 startedOn', (v) => v.startedOn],
  ['截止日 deadline', (v) => v.deadline],
  ['履行日 fulfilledOn', (v) => v.fulfilledOn],
  ['状态 status', (v) => v.status],
  ['逾期天数 delayDays', (v) => v.delayDays],
  ['逾期工作日 delayWorkingDays', (v) => v.delayWorkingDays],
  ['暂定 provisional', (v) => v.provisional],
  ['政策 policy', (v) => v.policy],
  ['依据 source', (v) => v.source, 40],
];

/** The same columns for the .xlsx export (`writeXlsx`): one sheet, the rows of the CSV. */
export const VIOLATION_XLSX_COLUMNS: XlsxColumn<ViolationView>[] = COLUMNS.map(
  ([header, value, width]) => ({ header, value: (v) => value(v) ?? null, width }),
);

/** RFC 4180 quoting; a leading = + - @ is neutralised so Excel never runs a formula. */
export function csvCell(x: Cell): string {
  if (x === null || x === undefined) return '';
  let s = String(x);
  if (/^[=+\-@\t\r]/.test(s) && typeof x === 'string') s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function violationsCsvHeader(): string {
  return COLUMNS.map(([h]) => csvCell(h)).join(',') + '\r\n';
}

export function violationsCsvRows(rows: ViolationView[]): string {
  return rows.map((v) => COLUMNS.map(([, f]) => csvCell(f(v))).join(',') + '\r\n').join('');
}
