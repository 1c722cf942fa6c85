import { Arg, Args, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ImageService } from '../domain/image/image.service';
import { StudyService } from '../domain/study/study.service';
import { PageArgsInput, toConnection } from '../schema/connection';
import { toImage } from '../schema/image.mappers';
import {
  AttachImageInput,
  ImageConnection,
  ImageFilter,
  ImageType,
  UploadImageBase64Input,
} from '../schema/image.types';
import { toStudy } from '../schema/study.mappers';
import { StudyType } from '../schema/study.types';
import type { GraphQLContext } from './context';

/** Images: attach uploads to studies, list them. */
@Resolver(() => ImageType)
export class ImageResolver {
  constructor(
    private readonly imagesService: ImageService,
    private readonly studiesService: StudyService,
  ) {}

  @Query(() => ImageConnection, { description: 'Images, newest first. Audited.' })
  async images(
    @Ctx() ctx: GraphQLContext,
    @Args() page: PageArgsInput,
    @Arg('filter', () => ImageFilter, { nullable: true, description: 'Filters; all records when omitted.' })
    filter?: ImageFilter,
  ): Promise<InstanceType<typeof ImageConnection>> {
    return toConnection(ImageConnection, await this.imagesService.list(ctx, filter ?? {}, page), toImage);
  }

  @Mutation(() => ImageType, {
    description: 'Attaches a file uploaded through POST /uploads to a study with its view (technicians).',
  })
  async attachImage(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', { description: 'Fields to set.' }) input: AttachImageInput,
  ): Promise<ImageType> {
    return toImage(await this.imagesService.attach(ctx, input));
  }

  @Mutation(() => ImageType, {
    description:
      'Uploads a small image inline (base64, limit MAX_BASE64_UPLOAD_BYTES, default 2 MiB) and attaches it (technicians).',
  })
  async uploadImageBase64(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', { description: 'Fields to set.' }) input: UploadImageBase64Input,
  ): Promise<ImageType> {
    return toImage(await this.imagesService.attachBase64(ctx, input));
  }

  @FieldResolver(() => StudyType, { description: 'The study the image belongs to.' })
  async study(@Ctx() ctx: GraphQLContext, @Root() image: ImageType): Promise<StudyType> {
    return toStudy(await this.studiesService.load(ctx, image.studyId));
  }
}
