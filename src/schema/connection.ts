import { IsOptional, MaxLength, Min } from 'class-validator';
import { ArgsType, ClassType, Field, Int, ObjectType } from 'type-graphql';
import type { Page } from '../domain/shared/pagination';

/** Relay page information. */
@ObjectType({ description: 'Relay page information for cursor pagination.' })
export class PageInfo {
  @Field({ description: 'Whether more items follow the last edge.' })
  hasNextPage!: boolean;

  @Field({ description: 'Whether items precede the first edge (true when `after` was given).' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first edge.' })
  startCursor!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Cursor of the last edge; pass it as `after` for the next page.',
  })
  endCursor!: string | null;
}

/** Shape every generated connection class has. */
export interface ConnectionShape<TNode> {
  edges: { cursor: string; node: TNode }[];
  pageInfo: PageInfo;
  totalCount(): Promise<number>;
}

/**
 * Builds `<Name>Connection` and `<Name>Edge` GraphQL types for a node type (Relay cursor connections).
 * `totalCount` costs a COUNT query and runs only when selected.
 */
export function Connection<TNode extends object>(nodeType: ClassType<TNode>, name: string) {
  @ObjectType(`${name}Edge`, { description: `An edge in a ${name} connection.` })
  class Edge {
    @Field({ description: 'Opaque cursor of this edge.' })
    cursor!: string;

    @Field(() => nodeType, { description: `The ${name}.` })
    node!: TNode;
  }

  @ObjectType(`${name}Connection`, { description: `A page of ${name} records, newest first.` })
  class ConnectionType implements ConnectionShape<TNode> {
    @Field(() => [Edge], { description: 'The records on this page with their cursors.' })
    edges!: Edge[];

    @Field(() => PageInfo, { description: 'Where this page sits in the whole list.' })
    pageInfo!: PageInfo;

    count!: () => Promise<number>;

    @Field(() => Int, { description: 'Number of records matching the filter (all pages).' })
    totalCount(): Promise<number> {
      return this.count();
    }
  }
  return ConnectionType;
}

/** Maps a service page to a connection instance through a node mapper. */
export function toConnection<TEntity, TNode, TConn extends ConnectionShape<TNode>>(
  ConnectionClass: new () => TConn,
  page: Page<TEntity & { id: string; createdAt: Date }>,
  mapNode: (entity: TEntity) => TNode,
): TConn {
  const connection = new ConnectionClass();
  connection.edges = page.items.map((item, i) => ({ cursor: page.cursors[i], node: mapNode(item) }));
  connection.pageInfo = {
    hasNextPage: page.hasNextPage,
    hasPreviousPage: page.hasPreviousPage,
    startCursor: page.cursors[0] ?? null,
    endCursor: page.cursors[page.cursors.length - 1] ?? null,
  };
  (connection as unknown as { count: () => Promise<number> }).count = page.totalCount;
  return connection;
}

@ArgsType()
export class PageArgsInput {
  @Field(() => Int, {
    nullable: true,
    description: 'Page size (default 20, at most the configured page limit).',
  })
  @IsOptional()
  @Min(0)
  first?: number;

  @Field(() => String, {
    nullable: true,
    description: 'Cursor after which the page starts (from pageInfo.endCursor).',
  })
  @IsOptional()
  @MaxLength(200)
  after?: string;
}
