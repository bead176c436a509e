import ExcelJS from 'exceljs';

export interface XlsxColumn<T> {
  /** the column header (Chinese first, as the CSV exports) */
  header: string;
  /** the cell of a row: strings, numbers, or null for an empty cell */
  value: (row: T) => string | number | null;
  /** column width in characters */
  width?: number;
}

/**
 * One worksheet as a real Office Open XML workbook (.xlsx), written by exceljs: a bold, frozen
 * header row and one row per item. Money and dates stay the strings the API gives (exact
 * decimals, business dates), so the file holds what the JSON answer holds.
 */
export async function writeXlsx<T>(
  sheetName: string,
  columns: readonly XlsxColumn<T>[],
  rows: Iterable<T>,
): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'procurement-compliance-monitor';
  const ws = wb.addWorksheet(sheetName, { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = columns.map((c) => ({ header: c.header, width: c.width ?? 16 }));
  ws.getRow(1).font = { bold: true };
  for (const r of rows) ws.addRow(columns.map((c) => c.value(r)));
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export const XLSX_MEDIA_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
