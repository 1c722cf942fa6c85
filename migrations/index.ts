import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261123134009 } from './Migration20261123134009';
import { Migration20261123140651 } from './Migration20261123140651';
import { Migration20261123155014 } from './Migration20261123155014';
import { Migration20261123160000 } from './Migration20261123160000';
import { Migration20261123163000 } from './Migration20261123163000';
import { Migration20261123164124 } from './Migration20261123164124';
import { Migration20261206131701 } from './Migration20261206131701';
import { Migration20261206144109 } from './Migration20261206144109';
import { Migration20261206160000 } from './Migration20261206160000';
import { Migration20261207041500 } from './Migration20261207041500';
import { Migration20261207070000 } from './Migration20261207070000';
import { Migration20261207120000 } from './Migration20261207120000';

/**
 * Every migration, in order. Listed explicitly so the same list works from TypeScript sources and from
 * the compiled `dist/`; `npm run migration:create` writes a new file and this list must name it.
 */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261123134009', class: Migration20261123134009 },
  { name: 'Migration20261123140651', class: Migration20261123140651 },
  { name: 'Migration20261123155014', class: Migration20261123155014 },
  { name: 'Migration20261123160000', class: Migration20261123160000 },
  { name: 'Migration20261123163000', class: Migration20261123163000 },
  { name: 'Migration20261123164124', class: Migration20261123164124 },
  { name: 'Migration20261206131701', class: Migration20261206131701 },
  { name: 'Migration20261206144109', class: Migration20261206144109 },
  { name: 'Migration20261206160000', class: Migration20261206160000 },
  { name: 'Migration20261207041500', class: Migration20261207041500 },
  { name: 'Migration20261207070000', class: Migration20261207070000 },
  { name: 'Migration20261207120000', class: Migration20261207120000 },
];
