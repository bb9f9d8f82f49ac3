/**
 * `npm run import -- <file> [--format jsonl|csv]`: imports users and behaviours into the server's database.
 * Exit codes: 0 imported, 1 bad data or another import in progress (nothing written), 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../db/open-database.js';
import { UsersRepo } from '../db/users-repo.js';
import { detectFormat, ImportBusyError, importData, type ImportFormat } from './import-service.js';

const USAGE = 'usage: npm run import -- <file.jsonl|file.csv> [--format jsonl|csv]';
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

class UsageError extends Error {}

function parseArgs(argv: string[]): { file: string; format: ImportFormat | undefined } {
  let file: string | undefined;
  let format: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--format') format = argv[++i];
    else if (arg.startsWith('--format=')) format = arg.slice('--format='.length);
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else if (file === undefined) file = arg;
    else throw new UsageError('only one file can be imported at a time');
  }
  if (file === undefined) throw new UsageError('no file given');
  if (format !== undefined && format !== 'jsonl' && format !== 'csv') {
    throw new UsageError(
      `unknown format ${JSON.stringify(format ?? '')}; use --format jsonl or --format csv`,
    );
  }
  return { file, format };
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`错误 error: ${err.message}\n${USAGE}`);
    return 2;
  }
  // npm runs the script inside server/; INIT_CWD is where the user typed the command.
  const path = resolve(process.env.INIT_CWD ?? process.cwd(), args.file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    console.error(`无法读取文件 cannot read ${path}: ${(err as Error).message}`);
    return 2;
  }
  const format = args.format ?? detectFormat(path, undefined, text);
  if (!format) {
    console.error(`无法识别格式 cannot tell the format of ${path}; use --format jsonl or --format csv`);
    return 2;
  }
  const dbPath = resolve(REPO_ROOT, process.env.DATABASE_PATH || 'data/app.db');
  const db = openDatabase(dbPath);
  try {
    // Short transactions, like the server's: a server running on this database keeps streaming meanwhile.
    const result = await importData(new UsersRepo(db), text, format).catch((err: unknown) => {
      if (err instanceof ImportBusyError) return err;
      throw err;
    });
    if (result instanceof ImportBusyError) {
      console.error(`导入未开始 ${result.message} Nothing was written.`);
      return 1;
    }
    if (!result.ok) {
      for (const e of result.errors) console.error(`line ${e.line}: ${e.reason}`);
      console.error(`导入失败，未写入任何数据 Import of ${path} failed; nothing was written (errors above).`);
      return 1;
    }
    console.log(
      `导入成功 Imported ${result.behaviours} behaviours and ${result.users} users ` +
        `(${result.createdUsers} created from behaviour rows) from ${path} into ${dbPath}`,
    );
    return 0;
  } finally {
    db.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
