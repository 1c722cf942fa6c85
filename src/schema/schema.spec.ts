import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  isUnionType,
} from 'graphql';
import { renderSchema } from '../../scripts/emit-schema';
import { buildAppSchema, RESOLVERS, resolverContainer, type ResolverInstance } from './build-schema';
import { PacsResolver } from '../resolvers/pacs.resolver';

describe('GraphQL schema', () => {
  it('matches the committed schema.graphql (run `npm run codegen` when this fails)', async () => {
    const committed = readFileSync(join(__dirname, '..', '..', 'schema.graphql'), 'utf8');
    expect(await renderSchema()).toBe(committed);
  });

  it('describes every type, field, argument, input field and enum value', async () => {
    const schema = await buildAppSchema();
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || (isScalarType(type) && isSpecifiedScalarType(type))) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of field.args)
            if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      } else if (isInputObjectType(type)) {
        for (const field of Object.values(type.getFields()))
          if (!field.description) missing.push(`${type.name}.${field.name}`);
      } else if (isEnumType(type)) {
        for (const value of type.getValues())
          if (!value.description) missing.push(`${type.name}.${value.name}`);
      } else if (isUnionType(type) && !type.description) missing.push(type.name);
    }
    expect(missing).toEqual([]);
  });

  describe('resolverContainer', () => {
    const instanceOf = (cls: (typeof RESOLVERS)[number]) => Object.create(cls.prototype) as ResolverInstance;

    it('hands type-graphql the instance of each listed class', () => {
      const instances = RESOLVERS.map(instanceOf);
      const container = resolverContainer(instances);
      for (const [k, cls] of RESOLVERS.entries())
        expect(container.get(cls, undefined as never)).toBe(instances[k]);
    });

    it('fails at start-up when a listed class has no instance', () => {
      const instances = RESOLVERS.filter((cls) => cls !== PacsResolver).map(instanceOf);
      expect(() => resolverContainer(instances)).toThrow(/missing PacsResolver/);
    });

    it('fails at start-up when a class has two instances', () => {
      expect(() => resolverContainer([...RESOLVERS.map(instanceOf), instanceOf(PacsResolver)])).toThrow(
        /one of each/,
      );
    });
  });
});
