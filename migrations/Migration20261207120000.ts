import { Migration } from '@mikro-orm/migrations';

/**
 * The precision of the graph that made each reading (issue 18): `fp32` (model.onnx) or `int8` (the
 * version's accepted int8 graph, served with ENGINE_PRECISION=int8). Readings before it ran model.onnx.
 */
export class Migration20261207120000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "prediction" add column "graph_precision" text not null default 'fp32';`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "prediction" drop column "graph_precision";`);
  }
}
