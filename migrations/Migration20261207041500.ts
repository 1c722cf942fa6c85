import { Migration } from '@mikro-orm/migrations';

/**
 * An image remembers the staged upload it was attached from, uniquely (issue 18): the attach is one
 * statement without a row lock, so of two attaches of one upload at the same moment the index keeps one.
 */
export class Migration20261207041500 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "image" add column "upload_id" uuid null;`);
    this.addSql(`alter table "image" add constraint "image_upload_id_unique" unique ("upload_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "image" drop constraint "image_upload_id_unique";`);
    this.addSql(`alter table "image" drop column "upload_id";`);
  }
}
