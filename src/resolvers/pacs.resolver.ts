import { Matches, MaxLength } from 'class-validator';
import { Arg, ArgsType, Args, Ctx, Field, ID, Mutation, Query, Resolver } from 'type-graphql';
import { DicomIngestService } from '../domain/pacs/dicom-ingest.service';
import { ResultExportService } from '../domain/pacs/result-export.service';
import { toDicomImport } from '../schema/pacs.mappers';
import {
  DICOM_UID,
  DicomExportType,
  DicomImportType,
  PacsStudyFilterInput,
  PacsStudyType,
} from '../schema/pacs.types';
import type { GraphQLContext } from './context';

@ArgsType()
class ImportStudyArgs {
  @Field({ description: 'DICOM Study Instance UID on the PACS.' })
  @MaxLength(64)
  @Matches(DICOM_UID, { message: 'studyInstanceUid must be a DICOM UID' })
  studyInstanceUid!: string;
}

/** PACS interoperability: search and import studies over DICOMweb, export AI reports back as DICOM SR. */
@Resolver()
export class PacsResolver {
  constructor(
    private readonly ingestService: DicomIngestService,
    private readonly exportService: ResultExportService,
  ) {}

  @Query(() => [PacsStudyType], {
    description: 'Studies on the configured PACS (QIDO-RS), marked when already imported.',
  })
  async pacsStudies(
    @Ctx() ctx: GraphQLContext,
    @Arg('filter', () => PacsStudyFilterInput, { nullable: true, description: 'Match keys.' })
    filter?: PacsStudyFilterInput,
  ): Promise<PacsStudyType[]> {
    return this.ingestService.searchPacs(ctx, {
      PatientID: filter?.patientId,
      StudyInstanceUID: filter?.studyInstanceUid,
      AccessionNumber: filter?.accessionNumber,
      StudyDate: filter?.studyDate,
      ModalitiesInStudy: filter?.modality,
      limit: filter?.limit ?? 50,
    });
  }

  @Mutation(() => DicomImportType, {
    description:
      'Retrieves a study from the PACS (WADO-RS) and creates its patient, study and images; importing again adds nothing.',
  })
  async importStudyFromPacs(
    @Ctx() ctx: GraphQLContext,
    @Args() args: ImportStudyArgs,
  ): Promise<DicomImportType> {
    return toDicomImport(await this.ingestService.importStudy(ctx, args.studyInstanceUid));
  }

  @Mutation(() => DicomExportType, {
    description:
      'Stores the AI report of a prediction on the PACS as a DICOM Comprehensive SR in the source study (AI assistance; requires clinician review).',
  })
  async exportPredictionToPacs(
    @Ctx() ctx: GraphQLContext,
    @Arg('predictionId', () => ID, { description: 'Prediction id.' }) predictionId: string,
  ): Promise<DicomExportType> {
    return this.exportService.exportToPacs(ctx, predictionId);
  }
}
