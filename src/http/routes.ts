import type { IncomingMessage } from 'node:http';
import type { AnalysisService } from '../domain/analysis/analysis.service';
import type { DicomIngestService } from '../domain/pacs/dicom-ingest.service';
import type { ResultExportService } from '../domain/pacs/result-export.service';
import { fhirCapabilityStatement } from '../interop/fhir-report';
import type { RequestContext } from '../domain/shared/request-context';
import { AppError, ForbiddenError, ValidationError } from '../errors';
import { ImageService } from '../domain/image/image.service';
import { toUploadReceipt } from '../schema/image.mappers';
import { requestTarget, type HttpResult, type RouteHandler } from './http-server';

/**
 * Binary routes beside GraphQL: `POST /uploads` (raw body; Content-Type application/dicom, image/png
 * or image/jpeg) stages a validated file and returns an uploadId for `attachImage`;
 * `GET /images/:id` returns the stored file.
 */
export function imageRoutes(images: ImageService): RouteHandler[] {
  return [
    {
      name: '/uploads',
      method: 'POST',
      pattern: /^\/uploads$/,
      async handle(ctx, req, _match, body) {
        const upload = await images.stage(ctx, await body(), req.headers['content-type']);
        return { status: 201, body: { ...toUploadReceipt(upload) } };
      },
    },
    {
      name: '/images/:id',
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

/**
 * `GET /predictions/:id/heatmap`: the class-activation heatmap PNG of a prediction, over the film;
 * `?overlay=false` the bare map; `?view=<n>` the map of the prediction's n-th input (0-based), for models
 * that read each view on its own (a wrist study's PA and lateral).
 */
export function predictionRoutes(analysis: AnalysisService): RouteHandler[] {
  return [
    {
      name: '/predictions/:id/heatmap',
      method: 'GET',
      pattern: /^\/predictions\/([0-9a-fA-F-]{36})\/heatmap$/,
      async handle(ctx, req, match) {
        const query = new URLSearchParams(requestTarget(req.url).search);
        const overlay = query.get('overlay') !== 'false';
        const viewParam = query.get('view');
        if (viewParam !== null && !/^\d{1,2}$/.test(viewParam))
          throw new ValidationError("view must be the index of one of the prediction's inputs (0, 1, ...)", {
            view: viewParam.slice(0, 40),
          });
        const view = viewParam === null ? undefined : Number(viewParam);
        const png = await analysis.heatmap(ctx, match[1], { overlay, view });
        return {
          status: 200,
          headers: { 'content-type': 'image/png', 'cache-control': 'private, no-store' },
          body: png,
        };
      },
    },
  ];
}

/** Base URL of this server as the client addressed it (for links in DICOMweb and FHIR answers). */
function baseUrlOf(req: IncomingMessage): string {
  const host =
    typeof req.headers.host === 'string' && /^[\w.:[\]-]{1,255}$/.test(req.headers.host)
      ? req.headers.host
      : 'localhost';
  return `http://${host}`;
}

/**
 * DICOMweb STOW-RS: `POST /dicom-web/studies[/{StudyInstanceUID}]` with a multipart/related;
 * type="application/dicom" body. Answers 200 (all stored), 202 (some refused) or 409 (none stored)
 * with the DICOM JSON response (Referenced SOP Sequence, Failed SOP Sequence with reasons).
 */
export function dicomWebRoutes(ingest: DicomIngestService, maxBodyBytes: number): RouteHandler[] {
  return [
    {
      name: '/dicom-web/studies',
      method: 'POST',
      pattern: /^\/dicom-web\/studies(?:\/([0-9.]{1,64}))?$/,
      maxBodyBytes,
      async handle(ctx, req, match, body) {
        const result = await ingest.stow(
          ctx,
          await body(),
          req.headers['content-type'],
          match[1] ?? null,
          `${baseUrlOf(req)}/dicom-web`,
        );
        return {
          status: result.status,
          headers: { 'content-type': 'application/dicom+json' },
          body: JSON.stringify(result.body),
        };
      },
    },
  ];
}

/** Headers of every FHIR answer: FHIR JSON, never cached (it carries patient data). */
const FHIR_JSON = {
  'content-type': 'application/fhir+json; charset=utf-8',
  'cache-control': 'private, no-store',
};

/** The FHIR issue type of a domain error. */
function fhirIssueOf(error: AppError): string {
  if (error.code === 'NOT_FOUND') return 'not-found';
  if (error.code === 'FORBIDDEN') return 'forbidden';
  return error.httpStatus < 500 ? 'invalid' : 'exception';
}

/** A FHIR resource as the answer; domain errors answer as a FHIR OperationOutcome (issue code by kind, our code in details). */
async function fhirAnswer(
  ctx: RequestContext,
  route: string,
  produce: () => Promise<unknown>,
): Promise<HttpResult> {
  try {
    return { status: 200, headers: FHIR_JSON, body: JSON.stringify(await produce()) };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    if (error instanceof ForbiddenError) ctx.audit.denied(`GET ${route}`);
    return {
      status: error.httpStatus,
      headers: FHIR_JSON,
      body: JSON.stringify({
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'error',
            code: fhirIssueOf(error),
            details: {
              coding: [{ system: 'urn:care-companion:error', code: error.code }],
              text: error.message,
            },
          },
        ],
      }),
    };
  }
}

/**
 * FHIR R4 read side for the EHR: `GET /fhir/DiagnosticReport/{predictionId}` (the report) and
 * `GET /fhir/DiagnosticReport?_id={predictionId}` (a searchset Bundle with the report, its
 * Observations, Patient and ImagingStudy, so every reference resolves inside the Bundle).
 */
export function fhirRoutes(exports: ResultExportService): RouteHandler[] {
  return [
    {
      name: '/fhir/metadata',
      method: 'GET',
      pattern: /^\/fhir\/metadata$/,
      handle: async (_ctx, req) => ({
        status: 200,
        headers: FHIR_JSON,
        body: JSON.stringify(
          fhirCapabilityStatement(`${baseUrlOf(req)}/fhir`, { name: 'Care Companion', version: '0.1.0' }),
        ),
      }),
    },
    {
      name: '/fhir/:type/:id',
      method: 'GET',
      pattern: /^\/fhir\/(Observation|Patient|ImagingStudy)\/([A-Za-z0-9.-]{1,64})$/,
      handle: (ctx, _req, match) =>
        fhirAnswer(ctx, '/fhir/:type/:id', () => exports.fhirResource(ctx, match[1]!, match[2]!)),
    },
    {
      name: '/fhir/DiagnosticReport/:id',
      method: 'GET',
      pattern: /^\/fhir\/DiagnosticReport\/([0-9a-fA-F-]{36})$/,
      handle: (ctx, req, match) =>
        fhirAnswer(
          ctx,
          '/fhir/DiagnosticReport/:id',
          async () => (await exports.fhirReport(ctx, match[1]!, `${baseUrlOf(req)}/fhir`)).report,
        ),
    },
    {
      name: '/fhir/DiagnosticReport',
      method: 'GET',
      pattern: /^\/fhir\/DiagnosticReport$/,
      handle: (ctx, req) =>
        fhirAnswer(ctx, '/fhir/DiagnosticReport', async () => {
          const id = new URL(req.url ?? '/', 'http://localhost').searchParams.get('_id');
          if (!id) throw new ValidationError('Search by _id (the prediction id)', { field: '_id' });
          return (await exports.fhirReport(ctx, id, `${baseUrlOf(req)}/fhir`)).bundle;
        }),
    },
  ];
}
