import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { CorrectionService } from '../domain/correction/correction.service';
import { QualityService } from '../domain/correction/quality.service';
import { toCorrection } from '../schema/correction.mappers';
import {
  CorrectionQualityInput,
  CorrectionQualityType,
  CorrectionType,
  SubmitCorrectionInput,
} from '../schema/correction.types';
import type { GraphQLContext } from './context';

/** Radiologists' corrections and the live quality measured from them. */
@Resolver()
export class CorrectionResolver {
  constructor(
    private readonly corrections: CorrectionService,
    private readonly quality: QualityService,
  ) {}

  @Mutation(() => CorrectionType, {
    description:
      'Records the true label of a prediction (radiologists). A de-identified copy of the images goes to the retraining area.',
  })
  async submitCorrection(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', { description: 'The correction.' }) input: SubmitCorrectionInput,
  ): Promise<CorrectionType> {
    return toCorrection(await this.corrections.submit(ctx, input.predictionId, input.label, input.comment));
  }

  @Query(() => [CorrectionQualityType], {
    description: 'Recall, specificity and agreement against corrections, by model version and time window.',
  })
  async correctionQuality(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', { description: 'Period, window and filters.' }) input: CorrectionQualityInput,
  ): Promise<CorrectionQualityType[]> {
    const rows = await this.quality.query(ctx, input);
    return rows.map((r) => Object.assign(new CorrectionQualityType(), r));
  }
}
