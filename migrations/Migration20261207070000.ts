import { Migration } from '@mikro-orm/migrations';

/**
 * A study's newest reading by index (issue 18): every analysis reads it, and a study read again and
 * again had its readings sorted each time. The composite index serves what the study index did.
 */
export class Migration20261207070000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index "prediction_study_id_created_at_id_index" on "prediction" ("study_id", "created_at", "id");`,
    );
    this.addSql(`drop index "prediction_study_id_index";`);
  }

  override async down(): Promise<void> {
    this.addSql(`create index "prediction_study_id_index" on "prediction" ("study_id");`);
    this.addSql(`drop index "prediction_study_id_created_at_id_index";`);
  }
}
