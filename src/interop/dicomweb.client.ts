import { PacsError } from '../errors/interop-errors';
import type { DicomJson } from './dicom-json';
import { buildMultipartRelated, parseMultipart } from './multipart';

/** Where the PACS is and how to sign in (Basic or Bearer). */
export interface DicomWebConfig {
  /** DICOMweb root, e.g. http://pacs:8042/dicom-web (no trailing slash needed). */
  baseUrl: string;
  username?: string | null;
  password?: string | null;
  bearerToken?: string | null;
  timeoutMs: number;
  /** Largest response accepted (a WADO-RS study retrieve), in bytes. */
  maxResponseBytes: number;
}

/** QIDO-RS match keys (PS3.18 8.3.4); empty ones are left out. */
export interface QidoQuery {
  PatientID?: string | null;
  StudyInstanceUID?: string | null;
  AccessionNumber?: string | null;
  StudyDate?: string | null;
  ModalitiesInStudy?: string | null;
  limit?: number | null;
}

/** The PACS side of ingestion and export. An interface so tests and other PACS kinds can stand in. */
export interface DicomWebClient {
  /** QIDO-RS: studies matching the query. */
  searchStudies(query: QidoQuery): Promise<DicomJson[]>;
  /** QIDO-RS: series of a study. */
  searchSeries(studyUid: string): Promise<DicomJson[]>;
  /** QIDO-RS: instances of a study (optionally of one modality). */
  searchInstances(studyUid: string, query?: { Modality?: string }): Promise<DicomJson[]>;
  /** WADO-RS: every instance of a study, as Part 10 files in their stored transfer syntax. */
  retrieveStudy(studyUid: string): Promise<Buffer[]>;
  /** WADO-RS: one instance as a Part 10 file. */
  retrieveInstance(studyUid: string, seriesUid: string, sopUid: string): Promise<Buffer>;
  /** STOW-RS: stores Part 10 files; returns the response data set. */
  store(files: Buffer[], studyUid?: string): Promise<DicomJson>;
}

const DICOM_MULTIPART = 'multipart/related; type="application/dicom"; transfer-syntax=*';

/** {@link DicomWebClient} over HTTP(S) with fetch; every call has a timeout and a response size cap. */
export class HttpDicomWebClient implements DicomWebClient {
  private readonly base: string;

  constructor(private readonly config: DicomWebConfig) {
    this.base = config.baseUrl.replace(/\/+$/, '');
  }

  async searchStudies(query: QidoQuery): Promise<DicomJson[]> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query))
      if (v !== null && v !== undefined && v !== '') params.set(k, String(v));
    for (const field of ['00100020', '00080050', '00080061', '00080020', '00201208', '00180015'])
      params.append('includefield', field);
    return this.json(`/studies?${params}`);
  }

  async searchSeries(studyUid: string): Promise<DicomJson[]> {
    return this.json(`/studies/${encodeURIComponent(studyUid)}/series`);
  }

  async searchInstances(studyUid: string, query: { Modality?: string } = {}): Promise<DicomJson[]> {
    const params = new URLSearchParams(query as Record<string, string>);
    const q = params.size ? `?${params}` : '';
    return this.json(`/studies/${encodeURIComponent(studyUid)}/instances${q}`);
  }

  async retrieveStudy(studyUid: string): Promise<Buffer[]> {
    return this.multipart(`/studies/${encodeURIComponent(studyUid)}`);
  }

  async retrieveInstance(studyUid: string, seriesUid: string, sopUid: string): Promise<Buffer> {
    const parts = await this.multipart(
      `/studies/${encodeURIComponent(studyUid)}/series/${encodeURIComponent(seriesUid)}/instances/${encodeURIComponent(sopUid)}`,
    );
    if (parts.length !== 1)
      throw new PacsError('PACS_BAD_RESPONSE', 'The PACS returned no single instance', {
        parts: parts.length,
      });
    return parts[0]!;
  }

  async store(files: Buffer[], studyUid?: string): Promise<DicomJson> {
    const { body, contentType } = buildMultipartRelated(files, 'application/dicom');
    const path = studyUid ? `/studies/${encodeURIComponent(studyUid)}` : '/studies';
    const res = await this.request(path, {
      method: 'POST',
      headers: { 'content-type': contentType, accept: 'application/dicom+json' },
      body,
    });
    const bytes = await this.read(res);
    if (!res.ok && res.status !== 202 && res.status !== 409)
      throw new PacsError('PACS_REJECTED', 'The PACS refused the stored objects', { status: res.status });
    try {
      return bytes.length ? (JSON.parse(bytes.toString('utf8')) as DicomJson) : {};
    } catch (e) {
      throw new PacsError('PACS_BAD_RESPONSE', 'The STOW-RS response is not DICOM JSON', {}, { cause: e });
    }
  }

  private async json(path: string): Promise<DicomJson[]> {
    const res = await this.request(path, { headers: { accept: 'application/dicom+json' } });
    const bytes = await this.read(res);
    if (res.status === 204) return [];
    if (!res.ok) throw new PacsError('PACS_REJECTED', 'The PACS refused the query', { status: res.status });
    try {
      const parsed = bytes.length ? (JSON.parse(bytes.toString('utf8')) as unknown) : [];
      if (!Array.isArray(parsed)) throw new TypeError('not an array');
      return parsed as DicomJson[];
    } catch (e) {
      throw new PacsError(
        'PACS_BAD_RESPONSE',
        'The QIDO-RS response is not a DICOM JSON array',
        {},
        { cause: e },
      );
    }
  }

  private async multipart(path: string): Promise<Buffer[]> {
    const res = await this.request(path, { headers: { accept: DICOM_MULTIPART } });
    const bytes = await this.read(res);
    if (res.status === 404) return [];
    if (!res.ok)
      throw new PacsError('PACS_REJECTED', 'The PACS refused the retrieve', { status: res.status });
    const parts = parseMultipart(bytes, res.headers.get('content-type') ?? undefined);
    const wrong = parts.find((p) => p.contentType !== 'application/dicom');
    if (wrong)
      throw new PacsError('PACS_BAD_RESPONSE', 'A WADO-RS part is not application/dicom', {
        contentType: wrong.contentType.slice(0, 100),
      });
    return parts.map((p) => p.body);
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.config.bearerToken) headers.set('authorization', `Bearer ${this.config.bearerToken}`);
    else if (this.config.username)
      headers.set(
        'authorization',
        `Basic ${Buffer.from(`${this.config.username}:${this.config.password ?? ''}`).toString('base64')}`,
      );
    try {
      return await fetch(`${this.base}${path}`, {
        ...init,
        headers,
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
    } catch (e) {
      throw new PacsError('PACS_UNAVAILABLE', 'The PACS cannot be reached', {}, { cause: e });
    }
  }

  /** Reads a response body, refusing it once it passes the size cap. */
  private async read(res: Response): Promise<Buffer> {
    const limit = this.config.maxResponseBytes;
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > limit) {
      await res.body?.cancel();
      throw new PacsError('PACS_RESPONSE_TOO_LARGE', 'The PACS response exceeds the size limit', { limit });
    }
    if (!res.body) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.length;
        // Throwing inside for-await cancels the stream.
        if (size > limit)
          throw new PacsError('PACS_RESPONSE_TOO_LARGE', 'The PACS response exceeds the size limit', {
            limit,
          });
        chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
    } catch (e) {
      if (e instanceof PacsError) throw e;
      throw new PacsError('PACS_UNAVAILABLE', 'The PACS connection failed while reading', {}, { cause: e });
    }
    return Buffer.concat(chunks, size);
  }
}
