import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import type { ReadService } from '../domain/read/read.service';
import { toFinalRead } from '../schema/read.mappers';
import { toStudy } from '../schema/study.mappers';
import { StudyType } from '../schema/study.types';
import { AmendFinalReadInput, FinalReadType, SignFinalReadInput } from '../schema/read.types';
import type { GraphQLContext } from './context';

/** The radiologist's reading workflow: open a study, sign the final read, amend it. */
@Resolver()
export class ReadResolver {
  constructor(private readonly reads: ReadService) {}

  @Mutation(() => StudyType, {
    description: 'Opens a study with images for reading (radiologists): status IN_REVIEW.',
  })
  async startReview(
    @Ctx() ctx: GraphQLContext,
    @Arg('studyId', () => ID, { description: 'Study id.' }) studyId: string,
  ): Promise<StudyType> {
    return toStudy(await this.reads.startReview(ctx, studyId));
  }

  @Mutation(() => FinalReadType, {
    description:
      "Signs the radiologist's final read (radiologists): every finding present or absent, agreeing with or correcting the AI. Status FINAL; notes that state other findings are invalidated.",
  })
  async signFinalRead(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', { description: 'The read.' }) input: SignFinalReadInput,
  ): Promise<FinalReadType> {
    const read = await this.reads.sign(ctx, input);
    return toFinalRead(read, this.reads.compare(read));
  }

  @Mutation(() => FinalReadType, {
    description:
      'Amends the signed read (radiologists), with the reason: status AMENDED; the new version is in force.',
  })
  async amendFinalRead(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', { description: 'The amended read.' }) input: AmendFinalReadInput,
  ): Promise<FinalReadType> {
    const read = await this.reads.amend(ctx, input);
    return toFinalRead(read, this.reads.compare(read));
  }
}
