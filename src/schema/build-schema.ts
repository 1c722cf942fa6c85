import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, ContainerType, PubSub } from 'type-graphql';
import { createLocalPubSub } from '../pubsub/pubsub';
import { AdminResolver } from '../resolvers/admin.resolver';
import { AnalysisResolver } from '../resolvers/analysis.resolver';
import { CorrectionResolver } from '../resolvers/correction.resolver';
import { ImageResolver } from '../resolvers/image.resolver';
import { ModelRegistryResolver } from '../resolvers/model-registry.resolver';
import { PacsResolver } from '../resolvers/pacs.resolver';
import { NoteResolver } from '../resolvers/note.resolver';
import { MonitoringResolver } from '../resolvers/monitoring.resolver';
import { PatientResolver } from '../resolvers/patient.resolver';
import { PredictionInputResolver, PredictionResolver } from '../resolvers/prediction.resolver';
import { ReadResolver } from '../resolvers/read.resolver';
import { RetrainingResolver } from '../resolvers/retraining.resolver';
import { SiteOperatingPointResolver, SiteResolver } from '../resolvers/site.resolver';
import { StudyResolver } from '../resolvers/study.resolver';
import './graphql-enums';
import { DateTimeISOScalar } from './scalars';

/**
 * Every resolver class in the schema: the one list. The composition root builds one instance of each and
 * hands them over through {@link resolverContainer}, which refuses a list that does not match this one.
 */
export const RESOLVERS = [
  PatientResolver,
  StudyResolver,
  ImageResolver,
  PredictionResolver,
  PredictionInputResolver,
  AnalysisResolver,
  AdminResolver,
  CorrectionResolver,
  ModelRegistryResolver,
  PacsResolver,
  NoteResolver,
  MonitoringResolver,
  RetrainingResolver,
  ReadResolver,
  SiteResolver,
  SiteOperatingPointResolver,
] as const;

/** An instance of one of the {@link RESOLVERS}. */
export type ResolverInstance = InstanceType<(typeof RESOLVERS)[number]>;

/**
 * The container type-graphql asks for resolver instances, finding each by its class. Throws (at start-up)
 * unless there is exactly one instance of every class in {@link RESOLVERS} and of no other class.
 */
export function resolverContainer(instances: readonly ResolverInstance[]): ContainerType {
  const classes: readonly unknown[] = RESOLVERS;
  const byClass = new Map<unknown, ResolverInstance>(instances.map((i) => [i.constructor, i]));
  const missing = RESOLVERS.filter((cls) => !byClass.has(cls)).map((cls) => cls.name);
  const unlisted = instances.filter((i) => !classes.includes(i.constructor)).map((i) => i.constructor.name);
  if (missing.length || unlisted.length || byClass.size !== instances.length) {
    const names = (list: string[]) => list.join(', ') || 'none';
    throw new Error(
      `Resolver instances must be one of each RESOLVERS class: missing ${names(missing)}, not listed ${names(unlisted)}`,
    );
  }
  return { get: (cls) => byClass.get(cls) };
}

/**
 * Builds the executable schema. `container` hands type-graphql the resolver instances built by the
 * composition root (with their services); without one (schema emission) resolvers are never called.
 */
export async function buildAppSchema(container?: ContainerType, pubSub?: PubSub): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [...RESOLVERS],
    container,
    pubSub: pubSub ?? createLocalPubSub(),
    scalarsMap: [{ type: Date, scalar: DateTimeISOScalar }],
    validate: { forbidUnknownValues: false },
    emitSchemaFile: false,
  });
  const roots: [typeof schema.getQueryType, string][] = [
    [schema.getQueryType, 'Reads. Every read of patient data is audited.'],
    [schema.getMutationType, 'Changes. Every mutation is authorised by role and audited.'],
    [schema.getSubscriptionType, 'Live events over graphql-ws at the same /graphql endpoint.'],
  ];
  for (const [get, description] of roots) {
    const type = get.call(schema);
    if (type) type.description = description;
  }
  return schema;
}
