import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const INSTALL_HINT =
  'run `bash scripts/ensure-services.sh` (it installs redis-server, postgresql and nginx-light with ' +
  'apt-get; `npm test` runs it first)';

const executable = (p: string): boolean => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The first `name` on PATH (and the sbin folders, which a non-root PATH may lack), or null. */
export function findOnPath(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const d of dirs) if (d && executable(join(d, name))) return join(d, name);
  return null;
}

/** PostgreSQL's server binaries: Debian's newest /usr/lib/postgresql/N/bin, else initdb's folder on PATH. */
export function findPgBin(): string | null {
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
  } catch {
    // not Debian's layout
  }
  for (const v of versions) if (executable(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
  const initdb = findOnPath('initdb');
  return initdb && executable(join(initdb, '..', 'postgres')) ? join(initdb, '..') : null;
}
