import { Migration } from '@mikro-orm/migrations';

/** Batch analysis jobs (submitStudies) and the link from a prediction to its job. */

export class Migration20261123140651 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "analysis_job" ("id" uuid not null, "created_at" timestamptz not null default now(), "status" text check ("status" in ('QUEUED', 'RUNNING', 'COMPLETED', 'FAILED')) not null default 'QUEUED', "study_ids" jsonb not null, "total" int not null, "completed" int not null default 0, "failed" int not null default 0, "failures" jsonb not null, "created_by_id" uuid null, "finished_at" timestamptz null, constraint "analysis_job_pkey" primary key ("id"));`,
    );

    this.addSql(
      `alter table "analysis_job" add constraint "analysis_job_created_by_id_foreign" foreign key ("created_by_id") references "app_user" ("id") on update cascade on delete set null;`,
    );

    this.addSql(`alter table "prediction" add column "analysis_job_id" uuid null;`);
    this.addSql(
      `alter table "prediction" add constraint "prediction_analysis_job_id_foreign" foreign key ("analysis_job_id") references "analysis_job" ("id") on update cascade on delete set null;`,
    );
    this.addSql(`create index "prediction_analysis_job_id_index" on "prediction" ("analysis_job_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "prediction" drop constraint "prediction_analysis_job_id_foreign";`);

    this.addSql(`drop table if exists "analysis_job" cascade;`);

    this.addSql(`drop index "prediction_analysis_job_id_index";`);
    this.addSql(`alter table "prediction" drop column "analysis_job_id";`);
  }
}
