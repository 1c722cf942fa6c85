import { Migration } from '@mikro-orm/migrations';

/**
 * Reading workflow (issue 15): radiologists' signed reads, study states IN_REVIEW/FINAL/AMENDED
 * (REVIEWED becomes FINAL), notes invalidated by a later read, reproducible predictions (inputs,
 * thresholds, re-read link), per-study job results, audited intake overrides and refused attempts.
 */
export class Migration20261206131701 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "study_read" ("id" uuid not null, "created_at" timestamptz not null default now(), "study_id" uuid not null, "prediction_id" uuid null, "version" int not null, "status" text check ("status" in ('REGISTERED', 'IMAGES_ATTACHED', 'ANALYZING', 'ANALYZED', 'IN_REVIEW', 'FINAL', 'AMENDED', 'FAILED')) not null, "findings" jsonb not null, "label" text not null, "conclusion" text null, "amendment_reason" text null, "radiologist_id" uuid null, constraint "study_read_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "study_read_study_id_index" on "study_read" ("study_id");`);
    this.addSql(
      `alter table "study_read" add constraint "study_read_study_id_version_unique" unique ("study_id", "version");`,
    );

    this.addSql(
      `alter table "study_read" add constraint "study_read_study_id_foreign" foreign key ("study_id") references "study" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "study_read" add constraint "study_read_prediction_id_foreign" foreign key ("prediction_id") references "prediction" ("id") on update cascade on delete set null;`,
    );
    this.addSql(
      `alter table "study_read" add constraint "study_read_radiologist_id_foreign" foreign key ("radiologist_id") references "app_user" ("id") on update cascade on delete set null;`,
    );

    this.addSql(`alter table "audit_event" drop constraint if exists "audit_event_action_check";`);

    this.addSql(`alter table "study" drop constraint if exists "study_status_check";`);

    this.addSql(`alter table "clinical_note" drop constraint if exists "clinical_note_status_check";`);

    this.addSql(
      `alter table "audit_event" add constraint "audit_event_action_check" check("action" in ('READ', 'CREATE', 'UPDATE', 'DELETE', 'UPLOAD', 'ANALYZE', 'LOGIN', 'SUBSCRIBE', 'DENIED'));`,
    );

    this.addSql(`update "study" set "status" = 'FINAL' where "status" = 'REVIEWED';`);
    this.addSql(
      `alter table "study" add constraint "study_status_check" check("status" in ('REGISTERED', 'IMAGES_ATTACHED', 'ANALYZING', 'ANALYZED', 'IN_REVIEW', 'FINAL', 'AMENDED', 'FAILED'));`,
    );

    this.addSql(`alter table "image" add column "intake_override" jsonb null;`);

    this.addSql(`alter table "analysis_job" add column "results" jsonb not null default '{}';`);

    this.addSql(
      `alter table "prediction" add column "inputs" jsonb not null default '[]', add column "thresholds" jsonb not null default '{}', add column "reread_of_id" uuid null;`,
    );
    this.addSql(
      `alter table "prediction" add constraint "prediction_reread_of_id_foreign" foreign key ("reread_of_id") references "prediction" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "clinical_note" add column "source" text check ("source" in ('AI', 'RADIOLOGIST')) not null default 'AI', add column "stated_findings" jsonb not null default '[]', add column "invalidated_at" timestamptz null, add column "invalidation_reason" text null;`,
    );
    // Notes drafted before this migration stated the AI findings of their prediction.
    this.addSql(
      `update "clinical_note" n set "stated_findings" = coalesce((select jsonb_agg(f->'label') from "prediction" p, jsonb_array_elements(p."findings") f where p."id" = n."prediction_id"), '[]'::jsonb);`,
    );
    this.addSql(
      `alter table "clinical_note" add constraint "clinical_note_status_check" check("status" in ('DRAFT', 'APPROVED', 'REJECTED', 'INVALIDATED'));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "study_read" cascade;`);

    this.addSql(`alter table "audit_event" drop constraint if exists "audit_event_action_check";`);

    this.addSql(`alter table "clinical_note" drop constraint if exists "clinical_note_status_check";`);

    this.addSql(`alter table "prediction" drop constraint "prediction_reread_of_id_foreign";`);

    this.addSql(`alter table "study" drop constraint if exists "study_status_check";`);

    this.addSql(`alter table "analysis_job" drop column "results";`);

    // audit_event is append-only: rows with DENIED stay, so the old constraint returns NOT VALID.
    this.addSql(
      `alter table "audit_event" add constraint "audit_event_action_check" check("action" in ('READ', 'CREATE', 'UPDATE', 'DELETE', 'UPLOAD', 'ANALYZE', 'LOGIN', 'SUBSCRIBE')) not valid;`,
    );

    this.addSql(
      `alter table "clinical_note" drop column "source", drop column "stated_findings", drop column "invalidated_at", drop column "invalidation_reason";`,
    );

    this.addSql(`update "clinical_note" set "status" = 'REJECTED' where "status" = 'INVALIDATED';`);
    this.addSql(
      `alter table "clinical_note" add constraint "clinical_note_status_check" check("status" in ('DRAFT', 'APPROVED', 'REJECTED'));`,
    );

    this.addSql(`alter table "image" drop column "intake_override";`);

    this.addSql(
      `alter table "prediction" drop column "inputs", drop column "thresholds", drop column "reread_of_id";`,
    );

    this.addSql(
      `update "study" set "status" = 'REVIEWED' where "status" in ('IN_REVIEW', 'FINAL', 'AMENDED');`,
    );
    this.addSql(
      `alter table "study" add constraint "study_status_check" check("status" in ('REGISTERED', 'IMAGES_ATTACHED', 'ANALYZING', 'ANALYZED', 'REVIEWED', 'FAILED'));`,
    );
  }
}
