import { parseCsv, readCsvRecords, writeCsv } from './csv';

describe('csv', () => {
  it('reads quoted fields with commas, quotes and newlines', () => {
    expect(parseCsv('a,b\n"x, y","he said ""hi"""\n"multi\nline",2\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'he said "hi"'],
      ['multi\nline', '2'],
    ]);
  });

  it('round-trips records', () => {
    const records = [{ path: 'a/b.png', label: 'NORMAL', note: 'x, "y"' }];
    expect(readCsvRecords(writeCsv(['path', 'label', 'note'], records))).toEqual(records);
  });

  it('handles CRLF and a missing final newline', () => {
    expect(readCsvRecords('path,label\r\na.png,TB')).toEqual([{ path: 'a.png', label: 'TB' }]);
  });
});
