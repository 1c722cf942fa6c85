import type { AnalysisService } from '../domain/analysis/analysis.service';
import { ImageService } from '../domain/image/image.service';
import { toUploadReceipt } from '../schema/mappers';
import type { RouteHandler } from './http-server';

/**
 * Binary routes beside GraphQL: `POST /uploads` (raw body; Content-Type application/dicom, image/png
 * or image/jpeg) stages a validated file and returns an uploadId for `attachImage`;
 * `GET /images/:id` returns the stored file.
 */
export function imageRoutes(images: ImageService): RouteHandler[] {
  return [
    {
      method: 'POST',
      pattern: /^\/uploads$/,
      async handle(ctx, req, _match, body) {
        const upload = await images.stage(ctx, await body(), req.headers['content-type']);
        return { status: 201, body: { ...toUploadReceipt(upload) } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/images\/([0-9a-fA-F-]{36})$/,
      async handle(ctx, _req, match) {
        const file = await images.download(ctx, match[1]);
        return {
          status: 200,
          headers: {
            'content-type': file.contentType,
            etag: `"${file.sha256}"`,
            'cache-control': 'private, no-store',
          },
          body: file.bytes,
        };
      },
    },
  ];
}

/** `GET /predictions/:id/heatmap`: the class-activation heatmap PNG of a prediction. */
export function predictionRoutes(analysis: AnalysisService): RouteHandler[] {
  return [
    {
      method: 'GET',
      pattern: /^\/predictions\/([0-9a-fA-F-]{36})\/heatmap$/,
      async handle(ctx, _req, match) {
        const png = await analysis.heatmap(ctx, match[1]);
        return {
          status: 200,
          headers: { 'content-type': 'image/png', 'cache-control': 'private, no-store' },
          body: png,
        };
      },
    },
  ];
}
