import ExcelJS from 'exceljs';
import { ErrorCodes } from '@app/contracts';
import { writeXlsx, type XlsxColumn } from './xlsx';

interface Row {
  id: string;
  n: number | null;
  ok: boolean;
}
const COLUMNS: XlsxColumn<Row>[] = [
  { header: '编号 id', value: (r) => r.id, width: 20 },
  { header: '数量 n', value: (r) => r.n },
  { header: '是否 ok', value: (r) => r.ok },
];

async function read(buf: Buffer) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf as unknown as ExcelJS.Buffer);
  const ws = wb.worksheets[0];
  const rows: unknown[][] = [];
  ws.eachRow({ includeEmpty: true }, (row) =>
    rows.push([1, 2, 3].map((i) => (row.values as unknown[])[i] ?? null)),
  );
  return { name: ws.name, rows, views: ws.views };
}

describe('writeXlsx', () => {
  it('writes one sheet: a frozen header, then the rows as typed cells (text stays text)', async () => {
    const rows: Row[] = [
      { id: '=1+1', n: 3, ok: true },
      { id: '2021-10-08', n: null, ok: false },
    ];
    const x = await read(await writeXlsx('违规清单 2021-10-20', COLUMNS, rows));
    expect(x.name).toBe('违规清单 2021-10-20');
    expect(x.rows).toEqual([
      ['编号 id', '数量 n', '是否 ok'],
      ['=1+1', 3, true],
      ['2021-10-08', null, false],
    ]);
    expect(x.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
  });

  it('takes rows from an async source', async () => {
    async function* source() {
      for (let i = 0; i < 1000; i++) yield { id: `C-${i}`, n: i, ok: i % 2 === 0 };
    }
    const x = await read(await writeXlsx('s', COLUMNS, source()));
    expect(x.rows).toHaveLength(1001);
    expect(x.rows[1000]).toEqual(['C-999', 999, false]);
  });

  it('refuses more rows than a sheet holds with EXPORT.TOO_LARGE', async () => {
    const rows = Array.from({ length: 4 }, (_, i) => ({ id: `${i}`, n: i, ok: true }));
    await expect(writeXlsx('s', COLUMNS, rows, 3)).rejects.toMatchObject({
      code: ErrorCodes.EXPORT_TOO_LARGE,
      statusCode: 400,
    });
    await expect(writeXlsx('s', COLUMNS, rows.slice(0, 3), 3)).resolves.toBeInstanceOf(Buffer);
  });
});
