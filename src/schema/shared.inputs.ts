import { Field, InputType } from 'type-graphql';

/** Codes (MRN, accession number): letters, digits and . _ - / only. */
export const CODE = /^[A-Za-z0-9._\-/]+$/;

@InputType({ description: 'A time interval; either end may be open.' })
export class DateRangeInput {
  @Field(() => Date, { nullable: true, description: 'Inclusive start.' })
  from?: Date;

  @Field(() => Date, { nullable: true, description: 'Exclusive end.' })
  to?: Date;
}
