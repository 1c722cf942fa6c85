import { Counter, Registry } from 'prom-client';
import type { DicomIngestObserver } from '../domain/pacs/dicom-ingest.service';

/** Prometheus view of DICOM ingestion: `care_companion_dicom_instances_total{source, status, code}`. */
export function createDicomIngestMetrics(registry: Registry): DicomIngestObserver {
  const instances = new Counter({
    name: 'care_companion_dicom_instances_total',
    help: 'DICOM instances offered for ingestion, by source (STOW, IMPORT), outcome and refusal code',
    labelNames: ['source', 'status', 'code'] as const,
    registers: [registry],
  });
  return { instanceOffered: (event) => instances.inc(event) };
}
