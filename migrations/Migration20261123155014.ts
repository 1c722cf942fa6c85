import { Migration } from '@mikro-orm/migrations';

export class Migration20261123155014 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "training_run" add column "trigger" text not null default 'CLI', add column "runner" text null, add column "candidate_version" text null, add column "phase" text null, add column "corrections_used" int not null default 0;`,
    );
    this.addSql(
      `create index "training_run_task_created_at_index" on "training_run" ("task", "created_at");`,
    );

    this.addSql(
      `alter table "correction" add column "task" text check ("task" in ('CHEST', 'WRIST')) not null, add column "predicted_positive" boolean not null default false, add column "model_version_id" uuid null, add column "retraining_object_keys" jsonb not null default '[]', add column "retraining_excluded_reason" text null, add column "predicted_label" text null;`,
    );
    this.addSql(
      `alter table "correction" add constraint "correction_model_version_id_foreign" foreign key ("model_version_id") references "model_version" ("id") on update cascade on delete set null;`,
    );
    this.addSql(`alter table "correction" drop column "retraining_object_key";`);
    this.addSql(`create index "correction_prediction_id_index" on "correction" ("prediction_id");`);
    this.addSql(`create index "correction_task_created_at_index" on "correction" ("task", "created_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "correction" drop constraint "correction_model_version_id_foreign";`);

    this.addSql(`drop index "correction_prediction_id_index";`);
    this.addSql(`drop index "correction_task_created_at_index";`);
    this.addSql(
      `alter table "correction" drop column "task", drop column "predicted_positive", drop column "model_version_id", drop column "retraining_object_keys", drop column "retraining_excluded_reason";`,
    );

    this.addSql(
      `alter table "correction" drop column "predicted_label", add column "retraining_object_key" text null;`,
    );

    this.addSql(`drop index "training_run_task_created_at_index";`);
    this.addSql(
      `alter table "training_run" drop column "trigger", drop column "runner", drop column "candidate_version", drop column "phase", drop column "corrections_used";`,
    );
  }
}
