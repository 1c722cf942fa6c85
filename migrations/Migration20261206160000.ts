import { Migration } from '@mikro-orm/migrations';

/**
 * Lazy heatmaps (issue 18): a prediction keeps its raw class-activation map, and the heatmap PNG is
 * rendered the first time someone asks for it (its key is recorded then).
 */
export class Migration20261206160000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "prediction" add column "cam" jsonb null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "prediction" drop column "cam";`);
  }
}
