import { Migration } from '@mikro-orm/migrations';

/**
 * Site validation (issue 16): sites (a default one, which every existing study joins), each site's
 * labelled validation set, site evaluations of model versions, approved site operating points, per-site
 * rollout gates, and which site operating point a prediction used.
 */
export class Migration20261206144109 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "site" ("id" uuid not null, "created_at" timestamptz not null default now(), "code" text not null, "name" text not null, "is_default" boolean not null default false, constraint "site_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "site" add constraint "site_code_unique" unique ("code");`);
    this.addSql(`create unique index "site_one_default" on "site" ("is_default") where "is_default";`);
    this.addSql(
      `insert into "site" ("id", "code", "name", "is_default") values ('00000000-0000-4000-8000-000000000001', 'default', 'Default site', true);`,
    );

    this.addSql(
      `create table "site_validation_item" ("id" uuid not null, "created_at" timestamptz not null default now(), "site_id" uuid not null, "study_id" uuid not null, "task" text check ("task" in ('CHEST', 'WRIST')) not null, "label" text not null, "source" text check ("source" in ('IMPORTED', 'FINAL_READ', 'CORRECTION')) not null, "labelled_by_id" uuid null, "updated_at" timestamptz not null default now(), constraint "site_validation_item_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "site_validation_item_site_id_task_index" on "site_validation_item" ("site_id", "task");`,
    );
    this.addSql(
      `alter table "site_validation_item" add constraint "site_validation_item_site_id_study_id_unique" unique ("site_id", "study_id");`,
    );

    this.addSql(
      `create table "site_evaluation" ("id" uuid not null, "created_at" timestamptz not null default now(), "site_id" uuid not null, "model_version_id" uuid not null, "task" text check ("task" in ('CHEST', 'WRIST')) not null, "status" text check ("status" in ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED')) not null default 'QUEUED', "trigger" text check ("trigger" in ('REQUESTED', 'PROMOTION')) not null, "requested_by_id" uuid null, "target_recall" double precision null, "n_items" int not null default 0, "result" jsonb null, "operating_point" jsonb null, "skipped" jsonb not null default '[]', "error" text null, "error_details" jsonb null, "started_at" timestamptz null, "finished_at" timestamptz null, constraint "site_evaluation_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "site_evaluation_site_id_model_version_id_created_at_index" on "site_evaluation" ("site_id", "model_version_id", "created_at");`,
    );

    this.addSql(
      `create table "site_rollout_gate" ("id" uuid not null, "created_at" timestamptz not null default now(), "site_id" uuid not null, "task" text check ("task" in ('CHEST', 'WRIST')) not null, "candidate_id" uuid not null, "fallback_id" uuid null, "status" text check ("status" in ('PENDING', 'PASSED', 'FAILED')) not null default 'PENDING', "evaluation_id" uuid null, "findings" jsonb null, "reason" text null, "decided_at" timestamptz null, constraint "site_rollout_gate_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "site_rollout_gate" add constraint "site_rollout_gate_site_id_candidate_id_unique" unique ("site_id", "candidate_id");`,
    );

    this.addSql(
      `create table "site_operating_point" ("id" uuid not null, "created_at" timestamptz not null default now(), "site_id" uuid not null, "model_version_id" uuid not null, "evaluation_id" uuid not null, "temperature" double precision not null, "thresholds" jsonb not null, "approved_by_id" uuid null, "superseded_at" timestamptz null, constraint "site_operating_point_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create unique index "site_operating_point_one_in_force" on "site_operating_point" ("site_id", "model_version_id") where "superseded_at" is null;`,
    );

    this.addSql(
      `alter table "site_validation_item" add constraint "site_validation_item_site_id_foreign" foreign key ("site_id") references "site" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "site_validation_item" add constraint "site_validation_item_study_id_foreign" foreign key ("study_id") references "study" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "site_validation_item" add constraint "site_validation_item_labelled_by_id_foreign" foreign key ("labelled_by_id") references "app_user" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "site_evaluation" add constraint "site_evaluation_site_id_foreign" foreign key ("site_id") references "site" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "site_evaluation" add constraint "site_evaluation_model_version_id_foreign" foreign key ("model_version_id") references "model_version" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "site_evaluation" add constraint "site_evaluation_requested_by_id_foreign" foreign key ("requested_by_id") references "app_user" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "site_rollout_gate" add constraint "site_rollout_gate_site_id_foreign" foreign key ("site_id") references "site" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "site_rollout_gate" add constraint "site_rollout_gate_candidate_id_foreign" foreign key ("candidate_id") references "model_version" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "site_rollout_gate" add constraint "site_rollout_gate_fallback_id_foreign" foreign key ("fallback_id") references "model_version" ("id") on update cascade on delete set null;`,
    );
    this.addSql(
      `alter table "site_rollout_gate" add constraint "site_rollout_gate_evaluation_id_foreign" foreign key ("evaluation_id") references "site_evaluation" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "site_operating_point" add constraint "site_operating_point_site_id_foreign" foreign key ("site_id") references "site" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "site_operating_point" add constraint "site_operating_point_model_version_id_foreign" foreign key ("model_version_id") references "model_version" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "site_operating_point" add constraint "site_operating_point_evaluation_id_foreign" foreign key ("evaluation_id") references "site_evaluation" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "site_operating_point" add constraint "site_operating_point_approved_by_id_foreign" foreign key ("approved_by_id") references "app_user" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "study" add column "site_id" uuid not null default '00000000-0000-4000-8000-000000000001';`,
    );
    this.addSql(
      `alter table "study" add constraint "study_site_id_foreign" foreign key ("site_id") references "site" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(`create index "study_site_id_index" on "study" ("site_id");`);

    this.addSql(
      `alter table "prediction" add column "site_operating_point_id" uuid null, add column "site_validated" boolean not null default false;`,
    );
    this.addSql(
      `alter table "prediction" add constraint "prediction_site_operating_point_id_foreign" foreign key ("site_operating_point_id") references "site_operating_point" ("id") on update cascade on delete set null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "study" drop constraint "study_site_id_foreign";`);

    this.addSql(`alter table "site_validation_item" drop constraint "site_validation_item_site_id_foreign";`);

    this.addSql(`alter table "site_evaluation" drop constraint "site_evaluation_site_id_foreign";`);

    this.addSql(`alter table "site_rollout_gate" drop constraint "site_rollout_gate_site_id_foreign";`);

    this.addSql(`alter table "site_operating_point" drop constraint "site_operating_point_site_id_foreign";`);

    this.addSql(`alter table "site_rollout_gate" drop constraint "site_rollout_gate_evaluation_id_foreign";`);

    this.addSql(
      `alter table "site_operating_point" drop constraint "site_operating_point_evaluation_id_foreign";`,
    );

    this.addSql(`alter table "prediction" drop constraint "prediction_site_operating_point_id_foreign";`);

    this.addSql(`drop table if exists "site" cascade;`);

    this.addSql(`drop table if exists "site_validation_item" cascade;`);

    this.addSql(`drop table if exists "site_evaluation" cascade;`);

    this.addSql(`drop table if exists "site_rollout_gate" cascade;`);

    this.addSql(`drop table if exists "site_operating_point" cascade;`);

    this.addSql(
      `alter table "prediction" drop column "site_operating_point_id", drop column "site_validated";`,
    );

    this.addSql(`drop index "study_site_id_index";`);
    this.addSql(`alter table "study" drop column "site_id";`);
  }
}
