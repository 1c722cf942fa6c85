import { Migration } from '@mikro-orm/migrations';

/** Model rollout: stage history, the rollback target, at most one PRODUCTION and one CANARY per task. */

export class Migration20261123160000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "model_stage_change" ("id" uuid not null, "created_at" timestamptz not null default now(), "model_version_id" uuid not null, "task" text check ("task" in ('CHEST', 'WRIST')) not null, "kind" text check ("kind" in ('INITIAL_PRODUCTION', 'CANARY_STARTED', 'CANARY_SHARE_CHANGED', 'PROMOTED', 'REPLACED', 'ARCHIVED', 'ROLLED_BACK', 'RESTORED')) not null, "from_stage" text check ("from_stage" in ('STAGING', 'CANARY', 'PRODUCTION', 'ARCHIVED')) not null, "to_stage" text check ("to_stage" in ('STAGING', 'CANARY', 'PRODUCTION', 'ARCHIVED')) not null, "traffic_share" double precision not null, "actor_id" uuid null, "actor_role" text check ("actor_role" in ('RADIOLOGIST', 'TECHNICIAN', 'ADMIN', 'INTEGRATOR')) null, "request_id" text null, constraint "model_stage_change_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "model_stage_change_model_version_id_created_at_index" on "model_stage_change" ("model_version_id", "created_at");`,
    );

    this.addSql(
      `alter table "model_stage_change" add constraint "model_stage_change_model_version_id_foreign" foreign key ("model_version_id") references "model_version" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "model_stage_change" add constraint "model_stage_change_actor_id_foreign" foreign key ("actor_id") references "app_user" ("id") on update cascade on delete set null;`,
    );

    this.addSql(`alter table "model_version" add column "previous_production_id" uuid null;`);
    this.addSql(
      `alter table "model_version" add constraint "model_version_previous_production_id_foreign" foreign key ("previous_production_id") references "model_version" ("id") on update cascade on delete set null;`,
    );
    this.addSql(
      `create unique index "model_version_one_canary_per_task" on "model_version" ("task") where "stage" = 'CANARY';`,
    );
    this.addSql(
      `create unique index "model_version_one_production_per_task" on "model_version" ("task") where "stage" = 'PRODUCTION';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "model_stage_change" cascade;`);

    this.addSql(
      `alter table "model_version" drop constraint "model_version_previous_production_id_foreign";`,
    );

    this.addSql(`drop index "model_version_one_canary_per_task";`);
    this.addSql(`drop index "model_version_one_production_per_task";`);
    this.addSql(`alter table "model_version" drop column "previous_production_id";`);
  }
}
