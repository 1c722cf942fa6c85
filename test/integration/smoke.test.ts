import { Role } from '../../src/domain/enums';
import { startTestApp, TestApp } from '../support/test-app';

describe('API smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.stop());

  it('registers a patient and a study and reads them back', async () => {
    const tech = await t.tokenFor(Role.TECHNICIAN);
    const p = await t.gql<{ createPatient: { id: string } }>(
      tech,
      `mutation { createPatient(input: {mrn: "MRN-1", givenName: "Ada", familyName: "Lovelace", birthDate: "1980-01-02", sex: FEMALE}) { id mrn } }`,
    );
    expect(p.errors).toBeUndefined();
    const s = await t.gql<{ createStudy: { id: string; status: string } }>(
      tech,
      `mutation($p: ID!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: "ACC-1"}) { id status } }`,
      { p: p.data!.createPatient.id },
    );
    expect(s.errors).toBeUndefined();
    expect(s.data!.createStudy.status).toBe('REGISTERED');
    const q = await t.gql<{
      studies: { edges: { node: { patient: { mrn: string } } }[]; totalCount: number };
    }>(
      tech,
      `{ studies(first: 10) { totalCount edges { node { accessionNumber patient { mrn } images { id } } } } }`,
    );
    expect(q.errors).toBeUndefined();
    expect(q.data!.studies.totalCount).toBe(1);
    expect(q.data!.studies.edges[0].node.patient.mrn).toBe('MRN-1');
  });
});
