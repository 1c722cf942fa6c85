import { Migration } from '@mikro-orm/migrations';

export class Migration20261123164124 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "training_run" add column "heartbeat_at" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "training_run" drop column "heartbeat_at";`);
  }
}
