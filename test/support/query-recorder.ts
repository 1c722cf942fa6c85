/**
 * Counts the SQL statements a piece of work sends, from MikroORM's query log: pass `onQuery` to
 * `startTestApp`, then `record` the work.
 */

/** The SQL text of a MikroORM query log line, lower-cased; null for lines that are not statements. */
export const statementOf = (line: string): string | null =>
  /^\[query\]/.test(line.trim()) ? line.trim().slice(8).toLowerCase() : null;

export class QueryRecorder {
  private lines: string[] | null = null;

  /** For `startTestApp`'s `onQuery`: keeps a line while a `record` runs. */
  readonly onQuery = (line: string): void => {
    this.lines?.push(line);
  };

  /** Runs `work` and returns its result with the statements sent meanwhile (`keep` filters them). */
  async record<T>(
    work: () => Promise<T>,
    keep: (statement: string) => boolean = () => true,
  ): Promise<{ result: T; statements: string[] }> {
    this.lines = [];
    try {
      const result = await work();
      return { result, statements: this.lines.flatMap((l) => statementOf(l) ?? []).filter(keep) };
    } finally {
      this.lines = null;
    }
  }
}
