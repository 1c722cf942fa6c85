import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { createPubSub } from '@graphql-yoga/subscription';
import { buildSchema, ContainerType, PubSub } from 'type-graphql';
import { AdminResolver } from '../resolvers/admin.resolver';
import { ImageResolver } from '../resolvers/image.resolver';
import { PatientResolver } from '../resolvers/patient.resolver';
import { PredictionResolver } from '../resolvers/prediction.resolver';
import { StudyResolver } from '../resolvers/study.resolver';
import './enums';

/** Every resolver class in the schema. */
export const RESOLVERS = [PatientResolver, StudyResolver, ImageResolver, PredictionResolver, AdminResolver] as const;

/**
 * Builds the executable schema. `container` hands type-graphql the resolver instances built by the
 * composition root (with their services); without one (schema emission) resolvers are never called.
 */
export async function buildAppSchema(container?: ContainerType, pubSub?: PubSub): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [...RESOLVERS],
    container,
    pubSub: pubSub ?? (createPubSub() as unknown as PubSub),
    validate: { forbidUnknownValues: false },
    emitSchemaFile: false,
  });
}
