import { IsEmail, IsOptional, Length, Max, MaxLength, Min } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Connection } from './connection';
import { Role } from '../domain/enums';

@ObjectType('User', { description: 'A person or integration client that holds tokens.' })
export class UserType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field({ description: 'Login e-mail address.' })
  email!: string;

  @Field({ description: 'Name shown in the interface.' })
  displayName!: string;

  @Field(() => Role, { description: 'Role that decides what this user may do.' })
  role!: Role;

  @Field({ description: 'False once deactivated; tokens of inactive users are refused.' })
  active!: boolean;

  @Field(() => [String], {
    description:
      "What the user's role may do (the policy table's permissions), e.g. for a front-end to show only that.",
  })
  permissions!: string[];

  @Field({ description: 'When the user was created.' })
  createdAt!: Date;
}

@ObjectType('IssuedToken', { description: 'A freshly minted bearer token. Shown once; store it safely.' })
export class IssuedTokenType {
  @Field({ description: 'The bearer token.' })
  token!: string;

  @Field({ description: 'When it expires.' })
  expiresAt!: Date;

  @Field(() => UserType, { description: 'Whom it was issued to.' })
  user!: UserType;
}

export const UserConnection = Connection(UserType, 'User');

@InputType({ description: 'Creates a user.' })
export class CreateUserInput {
  @Field({ description: 'Login e-mail; unique.' })
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @Field({ description: 'Name shown in the interface.' })
  @Length(1, 200)
  displayName!: string;

  @Field(() => Role, { description: 'Role.' })
  role!: Role;
}

@InputType({ description: 'Mints a token for an existing user.' })
export class IssueTokenInput {
  @Field(() => ID, { description: 'User id.' })
  userId!: string;

  @Field(() => Int, {
    nullable: true,
    description: 'Lifetime in seconds (default from configuration, at most 30 days).',
  })
  @IsOptional()
  @Min(60)
  @Max(30 * 24 * 3600)
  ttlSeconds?: number;
}
