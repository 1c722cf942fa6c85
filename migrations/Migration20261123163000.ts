import { Migration } from '@mikro-orm/migrations';

export class Migration20261123163000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "drift_check" ("id" uuid not null, "created_at" timestamptz not null default now(), "model_version_id" uuid not null, "window_kind" text not null, "window_start" timestamptz not null, "window_end" timestamptz not null, "window_size" int not null, "signals" jsonb not null, "drifted" boolean not null, constraint "drift_check_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "drift_check_created_at_id_index" on "drift_check" ("created_at", "id");`);
    this.addSql(
      `create index "drift_check_model_version_id_window_kind_window_end_index" on "drift_check" ("model_version_id", "window_kind", "window_end");`,
    );

    this.addSql(
      `create table "drift_sample" ("id" uuid not null, "created_at" timestamptz not null default now(), "prediction_id" uuid not null, "model_version_id" uuid not null, "embedding" bytea not null, "confidence" double precision not null, "predicted_class" text not null, "intensity_histogram" jsonb not null, "width" int not null, "height" int not null, "bits_stored" int not null, "format" text not null, constraint "drift_sample_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "drift_sample" add constraint "drift_sample_prediction_id_unique" unique ("prediction_id");`,
    );
    this.addSql(
      `create index "drift_sample_model_version_id_created_at_index" on "drift_sample" ("model_version_id", "created_at");`,
    );

    this.addSql(
      `alter table "drift_check" add constraint "drift_check_model_version_id_foreign" foreign key ("model_version_id") references "model_version" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "drift_sample" add constraint "drift_sample_prediction_id_foreign" foreign key ("prediction_id") references "prediction" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "drift_sample" add constraint "drift_sample_model_version_id_foreign" foreign key ("model_version_id") references "model_version" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(`alter table "drift_alert" add column "window_kind" text not null default 'COUNT';`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "drift_check" cascade;`);

    this.addSql(`drop table if exists "drift_sample" cascade;`);

    this.addSql(`alter table "drift_alert" drop column "window_kind";`);
  }
}
