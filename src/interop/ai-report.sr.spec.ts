import { readDicomIdentity } from '../imaging';
import { buildAiReportSr, COMPREHENSIVE_SR_SOP_CLASS } from './ai-report.sr';
import { deriveUid, DICOM_UID_PATTERN } from './dicom-uid';
import { el, encodeDataset } from '../imaging/dicom/dicom-writer';

const input = (name = 'Doe^Jane') => ({
  patient: { id: 'P1', name, birthDate: '19400305', sex: 'F' as const },
  study: { studyInstanceUid: '1.2.3', accessionNumber: 'A1' },
  evidence: [
    { seriesInstanceUid: '1.2.3.4', sopClassUid: '1.2.840.10008.5.1.4.1.1.1', sopInstanceUid: '1.2.3.4.5' },
  ],
  uids: { series: deriveUid('2.25', 's'), instance: deriveUid('2.25', 'i') },
  result: {
    gateVerdict: 'ACCEPTED',
    label: 'PNEUMONIA',
    probabilities: { NORMAL: 0.2, PNEUMONIA: 0.8 },
    findings: [{ label: 'PNEUMONIA', probability: 0.8, threshold: 0.3 }],
    modelName: 'care-companion-chest',
    modelVersion: 'v1',
    warning: 'AI assistance only.',
    explanation: null,
  },
  created: new Date('2026-01-02T03:04:05Z'),
  manufacturer: 'Care Companion',
});

describe('buildAiReportSr', () => {
  it('writes a Part 10 Comprehensive SR that the DICOM reader names by its UIDs', async () => {
    const file = buildAiReportSr(input());
    expect(file.subarray(128, 132).toString('latin1')).toBe('DICM');
    expect(await readDicomIdentity(file, 1e6)).toMatchObject({
      sopClassUid: COMPREHENSIVE_SR_SOP_CLASS,
      sopInstanceUid: deriveUid('2.25', 'i'),
      studyInstanceUid: '1.2.3',
    });
    expect(file.includes(Buffer.from('ISO_IR 192'))).toBe(false);
  });

  it('stays UNVERIFIED and PRELIMINARY without a signed read', () => {
    const file = buildAiReportSr(input());
    expect(file.includes(Buffer.from('UNVERIFIED'))).toBe(true);
    expect(file.includes(Buffer.from('PRELIMINARY'))).toBe(true);
    expect(file.includes(Buffer.from("Radiologist's read"))).toBe(false);
  });

  it('states a signed read first, with the AI beside it, VERIFIED and FINAL by the radiologist', () => {
    const file = buildAiReportSr({
      ...input(),
      review: {
        kind: 'FINAL',
        findings: [{ label: 'PNEUMONIA', present: false }],
        label: 'NORMAL',
        conclusion: 'Clear lungs.',
        radiologist: 'Dr Reader',
        at: new Date('2026-01-02T05:00:00Z'),
      },
    });
    const text = file.toString('latin1');
    expect(text).toContain("Radiologist's read (final): no finding (NORMAL). Clear lungs.");
    expect(text).toContain('AI second reading: AI flags: PNEUMONIA.');
    expect(text.indexOf("Radiologist's read")).toBeLessThan(text.indexOf('AI second reading: '));
    expect(text).toContain('VERIFIED');
    expect(text).not.toContain('UNVERIFIED');
    expect(text).toContain('FINAL');
    expect(text).not.toContain('PRELIMINARY');
    // Verifying Observer Sequence (0040,A073) with the radiologist's name and the verification time.
    expect(file.includes(Buffer.from([0x40, 0x00, 0x73, 0xa0]))).toBe(true);
    expect(text).toContain('Dr Reader');
    expect(text).toContain('20260102050000');
  });

  it('declares UTF-8 only when a value needs it', () => {
    const file = buildAiReportSr(input('Müller^Zoë'));
    expect(file.includes(Buffer.from('ISO_IR 192'))).toBe(true);
    expect(file.includes(Buffer.from('Müller^Zoë', 'utf8'))).toBe(true);
  });
});

describe('deriveUid', () => {
  it('is stable per seed, distinct across seeds, valid and at most 64 characters', () => {
    const a = deriveUid('2.25', 'x');
    expect(deriveUid('2.25', 'x')).toBe(a);
    expect(deriveUid('2.25', 'y')).not.toBe(a);
    for (const uid of [a, deriveUid('1.2.826.0.1.3680043.10.14', 'x')]) {
      expect(uid).toMatch(DICOM_UID_PATTERN);
      expect(uid.length).toBeLessThanOrEqual(64);
    }
  });
});

describe('encodeDataset', () => {
  it('sorts elements, pads text to even length and refuses duplicate tags', () => {
    const bytes = encodeDataset([el(0x00100020, 'LO', 'ABC'), el(0x00080060, 'CS', 'SR')]);
    expect([...bytes.subarray(0, 4)]).toEqual([0x08, 0x00, 0x60, 0x00]);
    expect(bytes.readUInt16LE(16)).toBe(4);
    expect(bytes.subarray(18, 22).toString('latin1')).toBe('ABC ');
    expect(() => encodeDataset([el(0x00080060, 'CS', 'SR'), el(0x00080060, 'CS', 'OT')])).toThrow(RangeError);
  });
});
