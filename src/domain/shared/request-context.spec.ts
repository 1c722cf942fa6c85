import type { EntityManager } from '@mikro-orm/postgresql';
import { createRequestContext } from './request-context';

/** A root EntityManager that counts its forks. */
function rootEm() {
  const forks: object[] = [];
  const em = {
    fork: () => {
      const f = { fork: em.fork };
      forks.push(f);
      return f;
    },
  };
  return { em: em as unknown as EntityManager, forks };
}

describe('createRequestContext', () => {
  it('forks the unit of work on first use only, once', () => {
    const { em, forks } = rootEm();
    const ctx = createRequestContext(em, null, 'req-1');
    expect(forks).toHaveLength(0);
    expect(ctx.audit.size).toBe(0);
    const first = ctx.em;
    expect(ctx.em).toBe(first);
    expect(ctx.loaders.studyById).toBeDefined();
    expect(forks).toHaveLength(1);
  });

  it("stays lazy through Apollo Server's copy of the context, and the copy keeps its own fork", () => {
    const { em, forks } = rootEm();
    const ctx = Object.assign(createRequestContext(em, null, 'req-1'), { extra: 1 });
    // What @apollo/server does with every context value (ApolloServer.js cloneObject).
    const copy = Object.assign(Object.create(Object.getPrototypeOf(ctx) as object) as typeof ctx, ctx);
    expect(forks).toHaveLength(0);
    expect(copy.requestId).toBe('req-1');
    expect(copy.extra).toBe(1);
    expect(copy.em).toBe(copy.em);
    expect(forks).toHaveLength(1);
  });
});
