import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { NotFoundError, UnauthenticatedError, ValidationError } from '../../errors';
import { AuditAction } from '../enums';
import { flushUnique } from '../shared/flush-unique';
import { isUuid } from '../shared/filters';
import type { RequestContext } from '../shared/request-context';
import { Site } from './site.entity';

/** Site codes: lower-case letters, digits and dashes, as in a URL. */
const CODE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Sites (hospitals, departments): registration by admins, the list for everyone signed in. */
export class SiteService {
  /** Every site, the default first (any authenticated caller: a technician registers studies at one). */
  async list(ctx: RequestContext): Promise<Site[]> {
    if (!ctx.principal) throw new UnauthenticatedError('Authentication required: send a bearer token');
    return ctx.em.getRepository(Site).findAllDefaultFirst();
  }

  /** One site by id, or NOT_FOUND. */
  async find(ctx: RequestContext, id: string): Promise<Site> {
    const site = isUuid(id) ? await ctx.em.getRepository(Site).findOne({ id }) : null;
    if (!site) throw NotFoundError.of('Site', id);
    return site;
  }

  /** Registers a site (MANAGE_SITES, audited); a code already taken is a CONFLICT. */
  async create(ctx: RequestContext, input: { code: string; name: string }): Promise<Site> {
    assertPermission(ctx.principal, Permission.MANAGE_SITES);
    const code = input.code.trim();
    const name = input.name.trim();
    if (!CODE.test(code))
      throw new ValidationError('code must be 1 to 63 lower-case letters, digits or dashes', {
        field: 'code',
      });
    if (!name || name.length > 200)
      throw new ValidationError('name must be 1 to 200 characters', { field: 'name' });
    const site = ctx.em.create(Site, { code, name, isDefault: false } as Site);
    ctx.audit.write(ctx.em, { action: AuditAction.CREATE, entityType: 'Site', entityId: site.id });
    await flushUnique(ctx.em, 'A site with this code already exists', 'code');
    return site;
  }
}
