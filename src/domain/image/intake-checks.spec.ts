import { BodyPart, ImageView } from '../enums';
import { intakeMismatches, StudyFacts } from './intake-checks';

const study: StudyFacts = {
  mrn: 'MRN-1',
  studyInstanceUid: '1.2.3',
  accessionNumber: 'ACC-1',
  bodyPart: BodyPart.CHEST,
};
const same = {
  patientId: 'MRN-1',
  studyInstanceUid: '1.2.3',
  accessionNumber: 'ACC-1',
  bodyPartExamined: 'CHEST',
  viewPosition: 'PA',
};

describe('intakeMismatches', () => {
  it('finds none for a file that agrees with its study, or leaves the attributes empty', () => {
    expect(intakeMismatches(same, study, ImageView.PA, null)).toEqual([]);
    expect(intakeMismatches({}, study, ImageView.PA, 'HOSP')).toEqual([]);
    // A view position this product does not map is no contradiction.
    expect(intakeMismatches({ ...same, viewPosition: 'XYZ' }, study, ImageView.LATERAL, null)).toEqual([]);
    // A study registered without a UID takes the file's (no mismatch).
    expect(intakeMismatches(same, { ...study, studyInstanceUid: null }, ImageView.PA, null)).toEqual([]);
  });

  it('lists every contradiction, the most serious first', () => {
    expect(
      intakeMismatches(
        {
          patientId: 'OTHER',
          issuerOfPatientId: 'ELSEWHERE',
          studyInstanceUid: '9.9',
          accessionNumber: 'ACC-2',
          bodyPartExamined: 'HIP',
          viewPosition: 'LL',
        },
        study,
        ImageView.PA,
        'HOSP',
      ),
    ).toEqual([
      'PATIENT_MISMATCH',
      'PATIENT_ID_ISSUER_MISMATCH',
      'STUDY_UID_MISMATCH',
      'ACCESSION_MISMATCH',
      'BODY_PART_MISMATCH',
      'VIEW_MISMATCH',
    ]);
  });

  it('checks the issuer only when the hospital names its own', () => {
    expect(intakeMismatches({ ...same, issuerOfPatientId: 'ELSEWHERE' }, study, ImageView.PA, null)).toEqual(
      [],
    );
    expect(intakeMismatches({ ...same, issuerOfPatientId: 'HOSP' }, study, ImageView.PA, 'HOSP')).toEqual([]);
  });

  it('maps synonyms of the body part and view (THORAX is a chest, LL is lateral)', () => {
    expect(
      intakeMismatches(
        { ...same, bodyPartExamined: 'THORAX', viewPosition: 'LL' },
        study,
        ImageView.LATERAL,
        null,
      ),
    ).toEqual([]);
  });
});
