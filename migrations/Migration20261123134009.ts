import { Migration } from '@mikro-orm/migrations';

/** Initial schema: every table, plus the append-only guard on audit_event. */

export class Migration20261123134009 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "audit_event" ("id" uuid not null, "created_at" timestamptz not null default now(), "actor_id" uuid null, "actor_role" text check ("actor_role" in ('RADIOLOGIST', 'TECHNICIAN', 'ADMIN', 'INTEGRATOR')) null, "action" text check ("action" in ('READ', 'CREATE', 'UPDATE', 'DELETE', 'UPLOAD', 'ANALYZE', 'LOGIN', 'SUBSCRIBE')) not null, "entity_type" text not null, "entity_id" text null, "patient_id" uuid null, "request_id" text null, "operation" text null, constraint "audit_event_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "audit_event_patient_id_index" on "audit_event" ("patient_id");`);
    this.addSql(`create index "audit_event_created_at_id_index" on "audit_event" ("created_at", "id");`);

    this.addSql(
      `create table "patient" ("id" uuid not null, "created_at" timestamptz not null default now(), "mrn" text not null, "given_name" text not null, "family_name" text not null, "birth_date" date null, "sex" text check ("sex" in ('FEMALE', 'MALE', 'OTHER', 'UNKNOWN')) not null default 'UNKNOWN', "updated_at" timestamptz not null default now(), constraint "patient_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "patient" add constraint "patient_mrn_unique" unique ("mrn");`);

    this.addSql(
      `create table "app_user" ("id" uuid not null, "created_at" timestamptz not null default now(), "email" text not null, "display_name" text not null, "role" text check ("role" in ('RADIOLOGIST', 'TECHNICIAN', 'ADMIN', 'INTEGRATOR')) not null, "active" boolean not null default true, constraint "app_user_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "app_user" add constraint "app_user_email_unique" unique ("email");`);

    this.addSql(
      `create table "upload" ("id" uuid not null, "created_at" timestamptz not null default now(), "sha256" char(64) not null, "object_key" text not null, "format" text check ("format" in ('PNG', 'JPEG', 'DICOM')) not null, "size_bytes" int not null, "metadata" jsonb not null, "uploaded_by_id" uuid null, "attached_at" timestamptz null, constraint "upload_pkey" primary key ("id"));`,
    );

    this.addSql(
      `create table "training_run" ("id" uuid not null, "created_at" timestamptz not null default now(), "task" text check ("task" in ('CHEST', 'WRIST')) not null, "status" text check ("status" in ('QUEUED', 'RUNNING', 'SUCCEEDED', 'REJECTED', 'FAILED')) not null default 'QUEUED', "parameters" jsonb not null, "code_version" text null, "manifest_sha256" char(64) null, "dataset_counts" jsonb null, "metrics" jsonb null, "gate_verdict" jsonb null, "started_at" timestamptz null, "finished_at" timestamptz null, "error" text null, "created_by_id" uuid null, constraint "training_run_pkey" primary key ("id"));`,
    );

    this.addSql(
      `create table "study" ("id" uuid not null, "created_at" timestamptz not null default now(), "patient_id" uuid not null, "body_part" text check ("body_part" in ('CHEST', 'WRIST')) not null, "priority" text check ("priority" in ('ROUTINE', 'URGENT', 'STAT')) not null default 'ROUTINE', "status" text check ("status" in ('REGISTERED', 'IMAGES_ATTACHED', 'ANALYZING', 'ANALYZED', 'REVIEWED', 'FAILED')) not null default 'REGISTERED', "accession_number" text not null, "study_instance_uid" text null, "description" text null, "created_by_id" uuid null, "updated_at" timestamptz not null default now(), constraint "study_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "study_patient_id_index" on "study" ("patient_id");`);
    this.addSql(`create index "study_status_index" on "study" ("status");`);
    this.addSql(
      `alter table "study" add constraint "study_accession_number_unique" unique ("accession_number");`,
    );
    this.addSql(`create index "study_created_at_id_index" on "study" ("created_at", "id");`);

    this.addSql(
      `create table "model_version" ("id" uuid not null, "created_at" timestamptz not null default now(), "task" text check ("task" in ('CHEST', 'WRIST')) not null, "version" text not null, "stage" text check ("stage" in ('STAGING', 'CANARY', 'PRODUCTION', 'ARCHIVED')) not null default 'STAGING', "traffic_share" double precision not null default 0, "artifact_path" text not null, "manifest_sha256" char(64) null, "metrics" jsonb null, "parent_id" uuid null, "training_run_id" uuid null, "promoted_by_id" uuid null, "promoted_at" timestamptz null, constraint "model_version_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "model_version" add constraint "model_version_task_version_unique" unique ("task", "version");`,
    );

    this.addSql(
      `create table "prediction" ("id" uuid not null, "created_at" timestamptz not null default now(), "study_id" uuid not null, "model_version_id" uuid null, "gate_verdict" text check ("gate_verdict" in ('ACCEPTED', 'NOT_A_RADIOGRAPH', 'WRONG_BODY_PART', 'LOW_QUALITY')) not null, "label" text null, "probabilities" jsonb not null, "findings" jsonb not null, "heatmap_key" text null, "timings" jsonb not null, "route" text not null default 'PRODUCTION', "warning" text not null, "explanation" text null, constraint "prediction_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "prediction_study_id_index" on "prediction" ("study_id");`);
    this.addSql(`create index "prediction_model_version_id_index" on "prediction" ("model_version_id");`);
    this.addSql(`create index "prediction_label_index" on "prediction" ("label");`);
    this.addSql(`create index "prediction_created_at_id_index" on "prediction" ("created_at", "id");`);

    this.addSql(
      `create table "drift_alert" ("id" uuid not null, "created_at" timestamptz not null default now(), "model_version_id" uuid null, "signal" text not null, "statistic" text not null, "value" double precision not null, "p_value" double precision null, "threshold" double precision not null, "window_start" timestamptz not null, "window_end" timestamptz not null, "window_size" int not null, "status" text check ("status" in ('OPEN', 'ACKNOWLEDGED', 'RESOLVED')) not null default 'OPEN', constraint "drift_alert_pkey" primary key ("id"));`,
    );

    this.addSql(
      `create table "image" ("id" uuid not null, "created_at" timestamptz not null default now(), "study_id" uuid not null, "view" text check ("view" in ('PA', 'AP', 'LATERAL', 'OBLIQUE')) not null, "format" text check ("format" in ('PNG', 'JPEG', 'DICOM')) not null, "width" int not null, "height" int not null, "bits_stored" smallint not null, "photometric" text not null, "transfer_syntax_uid" text null, "sha256" char(64) not null, "object_key" text not null, "size_bytes" int not null, "dicom_attributes" jsonb null, "uploaded_by_id" uuid null, constraint "image_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "image_sha256_index" on "image" ("sha256");`);
    this.addSql(`create index "image_study_id_created_at_index" on "image" ("study_id", "created_at");`);

    this.addSql(
      `create table "correction" ("id" uuid not null, "created_at" timestamptz not null default now(), "prediction_id" uuid not null, "label" text not null, "comment" text null, "created_by_id" uuid null, "retraining_object_key" text null, constraint "correction_pkey" primary key ("id"));`,
    );

    this.addSql(
      `create table "clinical_note" ("id" uuid not null, "created_at" timestamptz not null default now(), "prediction_id" uuid not null, "audience" text check ("audience" in ('PATIENT', 'CLINICIAN')) not null, "language" text not null default 'en', "body" text not null, "status" text check ("status" in ('DRAFT', 'APPROVED', 'REJECTED')) not null default 'DRAFT', "backend" text not null, "safety_checks" jsonb not null, "created_by_id" uuid null, "approved_by_id" uuid null, "approved_at" timestamptz null, constraint "clinical_note_pkey" primary key ("id"));`,
    );

    this.addSql(
      `alter table "upload" add constraint "upload_uploaded_by_id_foreign" foreign key ("uploaded_by_id") references "app_user" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "training_run" add constraint "training_run_created_by_id_foreign" foreign key ("created_by_id") references "app_user" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "study" add constraint "study_patient_id_foreign" foreign key ("patient_id") references "patient" ("id") on update cascade on delete restrict;`,
    );
    this.addSql(
      `alter table "study" add constraint "study_created_by_id_foreign" foreign key ("created_by_id") references "app_user" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "model_version" add constraint "model_version_parent_id_foreign" foreign key ("parent_id") references "model_version" ("id") on update cascade on delete set null;`,
    );
    this.addSql(
      `alter table "model_version" add constraint "model_version_training_run_id_foreign" foreign key ("training_run_id") references "training_run" ("id") on update cascade on delete set null;`,
    );
    this.addSql(
      `alter table "model_version" add constraint "model_version_promoted_by_id_foreign" foreign key ("promoted_by_id") references "app_user" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "prediction" add constraint "prediction_study_id_foreign" foreign key ("study_id") references "study" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "prediction" add constraint "prediction_model_version_id_foreign" foreign key ("model_version_id") references "model_version" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "drift_alert" add constraint "drift_alert_model_version_id_foreign" foreign key ("model_version_id") references "model_version" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "image" add constraint "image_study_id_foreign" foreign key ("study_id") references "study" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "image" add constraint "image_uploaded_by_id_foreign" foreign key ("uploaded_by_id") references "app_user" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "correction" add constraint "correction_prediction_id_foreign" foreign key ("prediction_id") references "prediction" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "correction" add constraint "correction_created_by_id_foreign" foreign key ("created_by_id") references "app_user" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "clinical_note" add constraint "clinical_note_prediction_id_foreign" foreign key ("prediction_id") references "prediction" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "clinical_note" add constraint "clinical_note_created_by_id_foreign" foreign key ("created_by_id") references "app_user" ("id") on update cascade on delete set null;`,
    );
    this.addSql(
      `alter table "clinical_note" add constraint "clinical_note_approved_by_id_foreign" foreign key ("approved_by_id") references "app_user" ("id") on update cascade on delete set null;`,
    );

    // Audit events are append-only: the API has no mutation for them, and the database refuses edits too.
    this.addSql(
      `create function audit_event_append_only() returns trigger language plpgsql as $$ begin raise exception 'audit_event is append-only' using errcode = '42501'; end $$;`,
    );
    this.addSql(
      `create trigger audit_event_no_update before update or delete on "audit_event" for each row execute function audit_event_append_only();`,
    );
    this.addSql(
      `create trigger audit_event_no_truncate before truncate on "audit_event" for each statement execute function audit_event_append_only();`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists audit_event_no_truncate on "audit_event";`);
    this.addSql(`drop trigger if exists audit_event_no_update on "audit_event";`);
    this.addSql(`drop function if exists audit_event_append_only();`);
    this.addSql(`alter table "study" drop constraint "study_patient_id_foreign";`);

    this.addSql(`alter table "upload" drop constraint "upload_uploaded_by_id_foreign";`);

    this.addSql(`alter table "training_run" drop constraint "training_run_created_by_id_foreign";`);

    this.addSql(`alter table "study" drop constraint "study_created_by_id_foreign";`);

    this.addSql(`alter table "model_version" drop constraint "model_version_promoted_by_id_foreign";`);

    this.addSql(`alter table "image" drop constraint "image_uploaded_by_id_foreign";`);

    this.addSql(`alter table "correction" drop constraint "correction_created_by_id_foreign";`);

    this.addSql(`alter table "clinical_note" drop constraint "clinical_note_created_by_id_foreign";`);

    this.addSql(`alter table "clinical_note" drop constraint "clinical_note_approved_by_id_foreign";`);

    this.addSql(`alter table "model_version" drop constraint "model_version_training_run_id_foreign";`);

    this.addSql(`alter table "prediction" drop constraint "prediction_study_id_foreign";`);

    this.addSql(`alter table "image" drop constraint "image_study_id_foreign";`);

    this.addSql(`alter table "model_version" drop constraint "model_version_parent_id_foreign";`);

    this.addSql(`alter table "prediction" drop constraint "prediction_model_version_id_foreign";`);

    this.addSql(`alter table "drift_alert" drop constraint "drift_alert_model_version_id_foreign";`);

    this.addSql(`alter table "correction" drop constraint "correction_prediction_id_foreign";`);

    this.addSql(`alter table "clinical_note" drop constraint "clinical_note_prediction_id_foreign";`);

    this.addSql(`drop table if exists "audit_event" cascade;`);

    this.addSql(`drop table if exists "patient" cascade;`);

    this.addSql(`drop table if exists "app_user" cascade;`);

    this.addSql(`drop table if exists "upload" cascade;`);

    this.addSql(`drop table if exists "training_run" cascade;`);

    this.addSql(`drop table if exists "study" cascade;`);

    this.addSql(`drop table if exists "model_version" cascade;`);

    this.addSql(`drop table if exists "prediction" cascade;`);

    this.addSql(`drop table if exists "drift_alert" cascade;`);

    this.addSql(`drop table if exists "image" cascade;`);

    this.addSql(`drop table if exists "correction" cascade;`);

    this.addSql(`drop table if exists "clinical_note" cascade;`);
  }
}
