import { BodyPart, ImageView, Sex } from '../enums';
import { bodyPartOf, dateOf, namesOf, sexOf, viewOf } from './dicom-mapping';

describe('DICOM → record mapping', () => {
  it.each([
    ['CHEST', BodyPart.CHEST],
    [' thorax ', BodyPart.CHEST],
    ['HAND', BodyPart.WRIST],
    ['WRIST', BodyPart.WRIST],
    ['EXTREMITY', null],
    ['HIP', null],
    [undefined, null],
  ])('body part %p → %p', (value, expected) => expect(bodyPartOf(value)).toBe(expected));

  it.each([
    ['PA', ImageView.PA],
    ['ap', ImageView.AP],
    ['LL', ImageView.LATERAL],
    ['RAO', ImageView.OBLIQUE],
    ['', null],
    ['XYZ', null],
  ])('view position %p → %p', (value, expected) => expect(viewOf(value)).toBe(expected));

  it('keeps only real calendar dates and splits person names', () => {
    expect(dateOf('19400305')).toBe('1940-03-05');
    expect(dateOf('19400231')).toBeNull();
    expect(dateOf('d14a028c2a3a')).toBeNull();
    expect(dateOf('00000101')).toBeNull(); // year 0: PostgreSQL cannot store it
    expect(dateOf('00010101')).toBe('0001-01-01');
    expect(namesOf('CompressedSamples^RG1')).toEqual({ familyName: 'CompressedSamples', givenName: 'RG1' });
    expect(namesOf('Yamada^Tarou=山田^太郎')).toEqual({ familyName: 'Yamada', givenName: 'Tarou' });
    expect(namesOf(undefined)).toEqual({ familyName: 'UNKNOWN', givenName: 'UNKNOWN' });
    expect([sexOf('F'), sexOf('m'), sexOf('O'), sexOf('')]).toEqual([
      Sex.FEMALE,
      Sex.MALE,
      Sex.OTHER,
      Sex.UNKNOWN,
    ]);
  });
});
